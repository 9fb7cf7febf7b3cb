"""The privacy notice in the wiring: /datenschutz renders the config's notice (and without it
says what is not filled in), the contact offer carries the privacy line."""

from __future__ import annotations

from bot.menus import privacy_line

CUSTOMER = 502
POLICY = "https://kaffeehaus-morgenrot.de/datenschutz"


async def test_datenschutz_shows_the_shops_notice_with_its_periods(shop):
    await shop.chat.send(CUSTOMER, "/datenschutz")
    (notice,) = shop.telegram.sent(CUSTOMER)
    assert notice.startswith("🔒 <b>Datenschutz bei Kaffeehaus Morgenrot</b>")
    assert "Lindenstraße 12, 10969 Berlin" in notice and "deine Nachrichten an mich: 90 Tage" in notice
    assert "Tickets: 2 Jahre nach dem Abschluss" in notice
    assert notice.endswith(f"Alles ausführlich: {POLICY}")
    assert shop.errors == []


async def test_a_notice_not_filled_in_says_so_and_has_no_link(shop):
    privacy = shop.services.config.privacy.model_copy(update={"controller": None, "policy_url": None})
    shop.services.config = shop.services.config.model_copy(update={"privacy": privacy})
    await shop.chat.send(CUSTOMER, "/privacy")
    (notice,) = shop.telegram.sent(CUSTOMER)
    assert "<b>Verantwortlich</b>\n(noch nicht eingetragen)" in notice and "Alles ausführlich" not in notice
    assert privacy_line(shop.services, shop.services.voice("de")).endswith("/datenschutz")


async def test_the_offer_to_share_a_phone_number_carries_the_privacy_line(shop):
    await shop.chat.send(CUSTOMER, "/verbinden")
    offer = shop.telegram.sent(CUSTOMER)[-1]
    assert offer.startswith(shop.text("linking.offer"))
    assert offer.endswith(f"/datenschutz · {POLICY}")


async def test_help_names_the_privacy_command(shop):
    await shop.chat.send(CUSTOMER, "/hilfe")
    assert "/datenschutz – was wir speichern und welche Rechte du hast" in shop.telegram.sent(CUSTOMER)[0]
