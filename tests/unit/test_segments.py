"""The segment language: every term, combinations, exclusions, spellings, every error."""

from decimal import Decimal

import pytest

from domain.config import LoyaltySection, SegmentsSection, ShopConfig, ShopSection, TierConfig
from domain.segments import (MAX_CHARS, MAX_TERMS, Literal, Rules, SegmentError, Term, parse,
                             rules_from)

RULES = Rules(loyalty=LoyaltySection(tiers=(TierConfig(name="Bronze", threshold=0),
                                            TierConfig(name="Silber", threshold=250),
                                            TierConfig(name="Gold", threshold=600),
                                            TierConfig(name="Gold Plus", threshold=1000))))


def clauses(text: str) -> list[list[tuple[str, object, bool]]]:
    return [[(lit.term.kind, lit.term.value, lit.negated) for lit in clause] for clause in parse(text, RULES).clauses]


@pytest.mark.parametrize(("text", "term"), [
    ("alle", Term("alle")),
    ("neu", Term("neu")),
    ("stamm", Term("stamm")),
    ("inaktiv:90", Term("inaktiv", 90)),
    ("inaktiv:1", Term("inaktiv", 1)),
    ("inaktiv:3650", Term("inaktiv", 3650)),
    ("vip", Term("vip")),
    ("stufe:gold", Term("stufe", "Gold")),
    ("stufe:Silber", Term("stufe", "Silber")),
    ('stufe:"gold plus"', Term("stufe", "Gold Plus")),
    ("geburtstag", Term("geburtstag")),
    ("kategorie:Kaffee", Term("kategorie", "kaffee")),
    ("nps:promoter", Term("nps", "promoter")),
    ("nps:passiv", Term("nps", "passiv")),
    ("nps:detraktor", Term("nps", "detraktor")),
])
def test_every_term(text, term):
    segment = parse(text, RULES)
    assert segment.clauses == ((Literal(term),),)
    assert parse(segment.text, RULES) == segment


@pytest.mark.parametrize(("typed", "canonical"), [
    ("STAMM", "stamm"),
    ("Stammkunden", "stamm"),
    ("Stammgäste", "stamm"),
    ("Stammgaeste", "stamm"),
    ("Neukunden", "neu"),
    ("VIPs", "vip"),
    ("Geburtstagskinder", "geburtstag"),
    ("inaktiv: 90", "inaktiv:90"),
    ("inaktiv : 90 Tage", "inaktiv:90"),
    ("inaktiv:90tage", "inaktiv:90"),
    ("inaktiv:90 Tagen", "inaktiv:90"),
    ("inaktiv:090", "inaktiv:90"),
    ("Stufe: GOLD", "stufe:gold"),
    ("stufe:gold plus", None),  # "plus" is not a term: an error, see below
    ("stufe:„Gold Plus“", 'stufe:"gold plus"'),
    ("nps:Kritiker", "nps:detraktor"),
    ("nps:Detraktoren", "nps:detraktor"),
    ("nps:promotoren", "nps:promoter"),
    ("nps:passive", "nps:passiv"),
    ("kategorie:Gebäck", "kategorie:gebäck"),
    ("Warengruppe:Bohnen", "kategorie:bohnen"),
    ("kategorie:\"Kaffee to go\"", 'kategorie:"kaffee to go"'),
    ("kategorie:„Kaffee   to go“", 'kategorie:"kaffee to go"'),
    ("kategorie:\"Kaffee to go", 'kategorie:"kaffee to go"'),  # the quote closes at the end
    ("kategorie:\"und\"", 'kategorie:"und"'),
    ("  stamm   ohne   vip  ", "stamm ohne vip"),
])
def test_spellings_and_canonical_form(typed, canonical):
    if canonical is None:
        with pytest.raises(SegmentError):
            parse(typed, RULES)
        return
    segment = parse(typed, RULES)
    assert segment.text == canonical
    assert parse(canonical, RULES) == segment


def test_umlauts_and_ae_oe_ue_are_the_same():
    rules = Rules(loyalty=LoyaltySection(tiers=(TierConfig(name="Grün", threshold=0),
                                                TierConfig(name="Größte", threshold=100))))
    assert parse("stufe:gruen", rules) == parse("stufe:GRÜN", rules) == parse("stufe:grün", rules)
    assert parse("stufe:groesste", rules).clauses[0][0].term == Term("stufe", "Größte")
    assert parse("stufe:grosste", rules).text == "stufe:größte"


@pytest.mark.parametrize(("text", "expected"), [
    ("stamm ohne vip", [[("stamm", None, False), ("vip", None, True)]]),
    ("stamm und nicht vip", [[("stamm", None, False), ("vip", None, True)]]),
    ("stamm -vip", [[("stamm", None, False), ("vip", None, True)]]),
    ("stamm !vip", [[("stamm", None, False), ("vip", None, True)]]),
    ("stamm - vip", [[("stamm", None, False), ("vip", None, True)]]),
    ("stamm außer vip", [[("stamm", None, False), ("vip", None, True)]]),
    ("neu, inaktiv:90", [[("neu", None, False)], [("inaktiv", 90, False)]]),
    ("neu,inaktiv:90", [[("neu", None, False)], [("inaktiv", 90, False)]]),
    ("neu oder inaktiv:90", [[("neu", None, False)], [("inaktiv", 90, False)]]),
    ("stufe:gold -nps:detraktor", [[("stufe", "Gold", False), ("nps", "detraktor", True)]]),
    # "und" binds tighter than "oder"
    ("stamm ohne vip oder neu geburtstag",
     [[("stamm", None, False), ("vip", None, True)], [("neu", None, False), ("geburtstag", None, False)]]),
    # exclusions alone mean "everyone except"
    ("ohne vip", [[("alle", None, False), ("vip", None, True)]]),
    ("alle ohne vip", [[("alle", None, False), ("vip", None, True)]]),
    # included terms first; duplicates and a redundant "alle" dropped
    ("ohne vip stamm", [[("stamm", None, False), ("vip", None, True)]]),
    ("stamm stamm und stamm", [[("stamm", None, False)]]),
    ("alle stamm", [[("stamm", None, False)]]),
    ("neu oder neu", [[("neu", None, False)]]),
    ("neu ohne neu", [[("neu", None, False), ("neu", None, True)]]),
])
def test_combinations_and_exclusions(text, expected):
    assert clauses(text) == expected
    assert parse(parse(text, RULES).text, RULES) == parse(text, RULES)


def test_canonical_text_of_combinations():
    assert parse("Stammkunden und nicht VIPs oder Geburtstag", RULES).text == "stamm ohne vip oder geburtstag"
    assert parse("-vip, !neu", RULES).text == "alle ohne vip oder alle ohne neu"
    assert parse("stufe:GOLD -nps:Kritiker", RULES).text == "stufe:gold ohne nps:detraktor"


@pytest.mark.parametrize(("text", "reason", "value"), [
    ("", "empty", ""),
    ("   ", "empty", ""),
    (None, "empty", ""),
    ("stammkundschaft", "unknown_term", "stammkundschaft"),
    ("stamm vips2", "unknown_term", "vips2"),
    ("neu:3", "unknown_term", "neu:3"),
    ("vip:gold", "unknown_term", "vip:gold"),
    ("(stamm)", "unknown_term", "(stamm)"),
    ('neu ""', "unknown_term", '""'),
    ("stamm ohne", "term_missing", "ohne"),
    ("ohne ohne vip", "term_missing", "ohne"),
    ("nicht -vip", "term_missing", "nicht"),
    ("stamm oder", "term_missing", "oder"),
    ("stamm,", "term_missing", ","),
    (", neu", "term_missing", ","),
    ("neu oder oder vip", "term_missing", "oder"),
    ("ohne oder vip", "term_missing", "ohne"),
    ("ohne und vip", "term_missing", "ohne"),
    ("inaktiv", "days_missing", "inaktiv"),
    ("inaktiv:", "days_missing", "inaktiv"),
    ("inaktiv:0", "days_invalid", "0"),
    ("inaktiv:3651", "days_invalid", "3651"),
    ("inaktiv:-5", "days_invalid", "-5"),
    ("inaktiv:neunzig", "days_invalid", "neunzig"),
    ("inaktiv:9,5", "unknown_term", "5"),  # whole days: ",5" starts a second alternative
    ("inaktiv:٩٠", "days_invalid", "٩٠"),  # Arabic-Indic digits are not days
    ("inaktiv:99999999999999999999999", "days_invalid", "99999999999999999999999"),
    ("stufe", "tier_missing", "stufe"),
    ("stufe:platin", "unknown_tier", "platin"),
    ("nps", "nps_group_missing", "nps"),
    ("nps:fans2", "unknown_nps_group", "fans2"),
    ("kategorie", "category_missing", "kategorie"),
    ('kategorie:""', "category_missing", "kategorie"),
    ("x" * (MAX_CHARS + 1), "too_long", str(MAX_CHARS + 1)),
    (" ".join(["vip"] * (MAX_TERMS + 1)), "too_long", str(len(" ".join(["vip"] * (MAX_TERMS + 1))))),
])
def test_every_error_reason(text, reason, value):
    with pytest.raises(SegmentError) as error:
        parse(text, RULES)
    assert (error.value.reason, error.value.value) == (reason, value)
    assert isinstance(error.value, ValueError)
    assert error.value.params["value"] == value


def test_errors_name_the_choices():
    with pytest.raises(SegmentError) as error:
        parse("stufe:platin", RULES)
    assert error.value.params["choices"] == 'stufe:bronze, stufe:silber, stufe:gold, stufe:"gold plus"'
    with pytest.raises(SegmentError) as error:
        parse("nps:meh", RULES)
    assert error.value.params["choices"] == "nps:promoter, nps:passiv, nps:detraktor"
    with pytest.raises(SegmentError) as error:
        parse("x" * 400, RULES)
    assert error.value.params["max_chars"] == MAX_CHARS and error.value.params["max_terms"] == MAX_TERMS


def test_max_terms_is_accepted():
    assert parse(" ".join(["vip"] * MAX_TERMS), RULES).text == "vip"


@pytest.mark.parametrize("text", [
    "\x00", "stamm\x00", "<b>vip</b>", "'; DROP TABLE customer; --", "stamm\u200bvip", "🎉", "∞", "%s",
    "ohne " * 60, "," * 300, "\"" * 300, "„" * 100,
    "stufe:" + "ä" * 250, "inaktiv:" + "9" * 290,
])
def test_strange_input_is_an_error_never_a_crash(text):
    with pytest.raises(SegmentError):
        parse(text, RULES)


def test_strange_category_names_are_plain_values():
    segment = parse("kategorie:\"'; DROP TABLE customer; --\"", RULES)
    assert segment.clauses[0][0].term == Term("kategorie", "'; drop table customer; --")
    with pytest.raises(SegmentError) as error:
        parse("kategorie:'; DROP TABLE customer; --", RULES)
    assert (error.value.reason, error.value.value) == ("unknown_term", "DROP")
    assert parse('kategorie:"<b>x</b> & y"', RULES).clauses[0][0].term == Term("kategorie", "<b>x</b> & y")


def test_rules_from_the_config():
    config = ShopConfig(shop=ShopSection(name="X", timezone="Europe/Vienna"),
                        segments=SegmentsSection(regular_min_purchases=6, regular_recent_days=30,
                                                 vip_revenue_share=0.75))
    rules = rules_from(config)
    assert (rules.regular_min_purchases, rules.regular_recent_days, rules.vip_revenue_share) == (6, 30, Decimal("0.75"))
    assert rules.timezone == "Europe/Vienna" and rules.loyalty == config.loyalty
    defaults = rules_from(ShopConfig(shop=ShopSection(name="X")))
    assert (defaults.regular_min_purchases, defaults.regular_recent_days, defaults.vip_revenue_share) == (
        4, 60, Decimal("0.8"))


REASONS = ("empty", "unknown_term", "term_missing", "days_missing", "days_invalid", "tier_missing", "unknown_tier",
           "nps_group_missing", "unknown_nps_group", "category_missing", "too_long")


def test_every_error_has_a_text_in_both_languages_that_says_what_to_type():
    from bot.texts import Texts, Voice

    texts = Texts("Kaffeehaus Morgenrot")
    examples = {"empty": "", "unknown_term": "<b>foo</b>", "term_missing": "ohne", "days_missing": "inaktiv",
                "days_invalid": "inaktiv:0", "tier_missing": "stufe", "unknown_tier": "stufe:platin",
                "nps_group_missing": "nps", "unknown_nps_group": "nps:meh", "category_missing": "kategorie",
                "too_long": "x" * 400}
    assert set(examples) == set(REASONS)
    for reason, typed in examples.items():
        with pytest.raises(SegmentError) as error:
            parse(typed, RULES)
        assert error.value.reason == reason
        for voice in (Voice("de"), Voice("de", formal=True), Voice("en")):
            rendered = texts.render(f"segments.errors.{reason}", voice, **error.value.params)
            assert "{" not in rendered, rendered
            # every answer shows what to type instead (or, when too long, the limits)
            assert any(hint in rendered for hint in ("<code>", "stufe:", "nps:", "20")), rendered
            assert "<b>foo</b>" not in rendered  # what the owner typed is escaped
    rendered = texts.render("segments.errors.unknown_tier", Voice("de"), **SegmentError("unknown_tier", "platin", (
        "stufe:bronze", "stufe:gold")).params)
    assert rendered == "Die Treuestufe „platin“ gibt es nicht. Möglich sind: stufe:bronze, stufe:gold"


def test_help_and_summary_texts_render():
    from bot.texts import Texts, Voice
    from domain.segments import help_params

    texts = Texts("Kaffeehaus Morgenrot")
    for voice in (Voice("de"), Voice("de", formal=True), Voice("en")):
        shown = texts.render("segments.help", voice, **help_params(RULES))
        assert "{" not in shown and "stufe:bronze, stufe:silber, stufe:gold" in shown
        for term in ("alle", "neu", "stamm", "inaktiv:90", "vip", "stufe:gold", "geburtstag", "kategorie:kaffee",
                     "nps:promoter", "nps:passiv", "nps:detraktor", "stamm ohne vip", "neu, inaktiv:90"):
            assert f"<code>{term}</code>" in shown, term
        summary = texts.render("segments.summary", voice, matching=12345, reachable=678, names="Anna M., Ben")
        assert "12" in summary and "678" in summary and "Anna M., Ben" in summary
        assert "{" not in texts.render("segments.summary_nobody_reachable", voice, matching=3)
    assert "80\u00a0%" in texts.render("segments.help", Voice("de"), **help_params(RULES))
    assert "12.345" in texts.render("segments.summary", Voice("de"), matching=12345, reachable=1, names="A")
