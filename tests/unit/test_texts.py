"""Texts: du/Sie/English variants, escaping of user input, owner overrides, formatting."""

from datetime import date
from decimal import Decimal

import pytest

from bot import formatting
from bot.texts import LANGUAGES, Html, Texts, TextsError, Voice, _read, LOCALES_DIR

DU, SIE, EN = Voice("de"), Voice("de", formal=True), Voice("en")


@pytest.fixture(scope="module")
def texts():
    return Texts("Kaffeehaus Morgenrot")


def test_du_sie_and_english_differ(texts):
    du = texts.render("welcome.new", DU, name="Anna")
    sie = texts.render("welcome.new", SIE, name="Anna")
    en = texts.render("welcome.new", EN, name="Anna")
    assert "dass du da bist" in du and "dass Sie da sind" in sie and "Great to have you" in en
    assert all("Anna" in t and "Kaffeehaus Morgenrot" in t for t in (du, sie, en))


def test_user_text_is_escaped(texts):
    rendered = texts.render("tickets.customer_message", DU, name="<b>Eve</b> & Co", number=7,
                            text='<script>alert("x")</script>')
    assert "&lt;b&gt;Eve&lt;/b&gt; &amp; Co" in rendered
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered


def test_shop_name_is_escaped():
    rendered = Texts("Kaffee & <Kuchen>").render("welcome.back", DU, name="Anna")
    assert "&lt;Kuchen&gt;" not in rendered  # welcome.back does not use the shop name
    assert "Kaffee &amp; &lt;Kuchen&gt;" in Texts("Kaffee & <Kuchen>").render("welcome.new", DU, name="A")


def test_safe_html_parameter_is_kept(texts):
    assert "<i>x</i>" in texts.render("tickets.customer_message", DU, name="A", number=1, text=Html("<i>x</i>"))


def test_missing_placeholder_stays_visible_instead_of_crashing(texts):
    assert "{name}" in texts.render("welcome.back", DU)


def test_every_key_exists_in_both_languages_with_the_same_placeholders():
    import string

    catalogs = {lang: _read(LOCALES_DIR / f"{lang}.yml") for lang in LANGUAGES}
    assert set(catalogs["de"]) == set(catalogs["en"])

    def names(entry):
        variants = entry.values() if isinstance(entry, dict) else [entry]
        return {n for v in variants for _, n, _, _ in string.Formatter().parse(v) if n}

    for key in catalogs["de"]:
        assert names(catalogs["de"][key]) == names(catalogs["en"][key]), key


def test_owner_override_replaces_one_text(tmp_path):
    (tmp_path / "de.yml").write_text("welcome:\n  back:\n    du: Moin {name}!\n    sie: Guten Tag {name}!\n")
    texts = Texts("Laden", tmp_path)
    assert texts.render("welcome.back", DU, name="Jo") == "Moin Jo!"
    assert texts.render("welcome.back", EN, name="Jo").startswith("Welcome back")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("welcome:\n  bak: Hallo\n", "unknown text key"),
        ("welcome:\n  back: Hallo {vorname}\n", "unknown placeholder {vorname}"),
        ("welcome:\n  back:\n    du: nur du\n", "both a 'du:' and a 'sie:'"),
        ("welcome: [\n", "not valid YAML"),
    ],
)
def test_bad_override_is_reported(tmp_path, override, message):
    (tmp_path / "de.yml").write_text(override)
    with pytest.raises(TextsError, match=message.replace("{", r"\{").replace("}", r"\}")):
        Texts("Laden", tmp_path)


def test_german_and_english_number_and_date_formats():
    assert formatting.money(Decimal("1234.5"), "de") == "1.234,50\xa0€"
    assert formatting.money(Decimal("1234.5"), "en") == "1,234.50\xa0€"
    assert formatting.number(1234567, "de") == "1.234.567"
    assert formatting.day_month(date(2026, 5, 3), "de") == "3. Mai"
    assert formatting.day_month(date(2026, 5, 3), "en") == "3 May"
    assert formatting.long_date(date(2026, 3, 1), "de") == "1. März 2026"


def test_numbers_in_parameters_follow_the_language():
    texts = Texts("X")
    template_de = texts._format(1234, "de")
    assert template_de == "1.234" and texts._format(1234, "en") == "1,234"
    assert texts._format(date(2026, 12, 24), "de") == "24. Dezember 2026"


def test_nested_texts_and_moments_render_in_the_recipients_language(texts):
    from datetime import datetime, timezone

    from domain.outbox import moment_param, text_param, texts_param

    due = moment_param(datetime(2026, 11, 27, 16, 50, tzinfo=timezone.utc))  # 17:50 in Berlin
    assert texts.render("tickets.alert_due", DU, due=due) == "\n⏱ Erste Antwort fällig: Fr., 27.11., 17:50"
    assert texts.render("tickets.alert_due", EN, due=due) == "\n⏱ First answer due: Fri 27 Nov, 17:50"
    reasons = texts_param(["tickets.reason.legal_threat", "tickets.reason.churn_threat"])
    assert texts.render("tickets.alert_reasons", DU, reasons=reasons) == (
        "\nWarum: Anwalt/Behörde, will nicht wiederkommen")
    footer = text_param("tickets.footer_claimed", staff="<Bea>")
    assert texts.render("tickets.list_claimed", EN, staff="x") == " · 👤 x"
    assert "Übernommen von &lt;Bea&gt;" in texts.render("tickets.alert", DU, footer=footer)


def test_tier_names_follow_the_recipients_language(texts):
    from domain.config import TierConfig

    silver = TierConfig(name="Silber", name_en="Silver", threshold=250).name_param()
    assert "<b>Silver</b>" in texts.render("loyalty.tier_upgrade", EN, tier=silver, multiplier=1.25)
    assert "<b>Silber</b>" in texts.render("loyalty.tier_upgrade", DU, tier=silver, multiplier=1.25)
    gold = TierConfig(name="Gold", threshold=600).name_param()  # no English name: the name itself
    assert "<b>Gold</b>" in texts.render("loyalty.tier_upgrade", EN, tier=gold, multiplier=1.5)


def test_a_coupon_code_is_a_link_to_its_qr_code_where_the_bot_is_known(texts):
    from bot.texts import with_links
    from domain import coupons, outbox
    gift = outbox.text_param("milestones.gift_coupon", offer="Kuchen", code=coupons.link("K7QX2M9P"),
                             valid_until=outbox.date_param(date(2026, 5, 3)))
    sent = texts.render("milestones.with_gift", DU, **with_links({"greeting": "Hallo", "gift": gift}, "morgenrot_bot"))
    assert '<b><a href="https://t.me/morgenrot_bot?start=code_K7QX2M9P">K7QX-2M9P</a></b>' in sent
    # Without the bot's name (e.g. an owner's preview) the code stays plain text.
    assert "<b>K7QX-2M9P</b>" in texts.render("milestones.gift_coupon", DU, offer="Kuchen", code=coupons.link("K7QX2M9P"),
                                               valid_until=date(2026, 5, 3))
