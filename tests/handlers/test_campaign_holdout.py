"""The control group in the owner's chat: the 🧪 row under the preview edits the confirmation in
place, /kampagnen says from which day the effect is shown, and after it the list and /bericht
compare the recipients with the held back."""

import json
from datetime import timedelta
from decimal import Decimal

from sqlmodel import select

from bot import formatting
from domain import holdout, purchases
from storage.models import Campaign
from tests.handlers.conftest import ADMIN_ID
from tests.use_cases.people import onboarded_customer


def last_markup(shop, method: str) -> tuple[str, list[list[dict]]]:
    for name, params in reversed(shop.telegram.calls):
        if name == method and params.get("reply_markup"):
            markup = params["reply_markup"]
            markup = markup if isinstance(markup, dict) else json.loads(markup)
            return params["text"], markup["inline_keyboard"]
    raise AssertionError(f"no {method} with buttons")


async def test_the_control_group_row_changes_the_draft_and_the_list_says_when_the_effect_comes(shop):
    store, now = shop.services.store, shop.services.now()
    for user_id in range(5001, 5006):
        onboarded_customer(store, user_id, now - timedelta(days=30))
    await shop.chat.send(ADMIN_ID, "/broadcast alle", first_name="Ines")
    await shop.chat.send(ADMIN_ID, "Frische Bohnen sind da!", first_name="Ines")
    text, rows = last_markup(shop, "sendMessage")
    assert "Kontrollgruppe 10\u00a0%" in text
    assert [button["text"] for button in rows[1]] == ["🧪 0\u00a0%", "✔️ 10\u00a0%", "🧪 20\u00a0%"]
    twenty = rows[1][2]["callback_data"]

    await shop.chat.press(ADMIN_ID, twenty)
    text, rows = last_markup(shop, "editMessageText")
    assert "Kontrollgruppe 20\u00a0%" in text and rows[1][2]["text"] == "✔️ 20\u00a0%"
    with store.session() as session:
        assert session.exec(select(Campaign.holdout_percent)).one() == 20
    await shop.chat.press(ADMIN_ID, twenty.replace(":20", ":49"))  # not a choice of the row
    assert shop.telegram.toasts()[-1] == shop.text("errors.done_button")

    await shop.chat.press(ADMIN_ID, rows[0][0]["callback_data"])  # Senden
    await shop.chat.press(ADMIN_ID, twenty)  # too late: the campaign is confirmed
    assert shop.telegram.toasts()[-1] == shop.text("errors.done_button")
    await shop.chat.send(ADMIN_ID, "/kampagnen", first_name="Ines")
    assert "Kontrollgruppe 20\u00a0% · Wirkung ab 16. Dezember 2026" in shop.telegram.sent(ADMIN_ID)[-1]

    shop.services.clock.moment = now + timedelta(days=14)
    await shop.chat.send(ADMIN_ID, "/kampagnen", first_name="Ines")
    listed = shop.telegram.sent(ADMIN_ID)[-1]
    assert "Kontrollgruppe:" in listed and "Zu wenige Kunden für eine Aussage" in listed
    assert not shop.errors


async def test_after_the_window_the_list_and_the_report_show_the_uplift_against_the_control_group(shop):
    """120 customers, 20 % held back; half the recipients and a quarter of the held back buy a 10 € coffee."""
    store, now = shop.services.store, shop.services.now()
    people = [onboarded_customer(store, user_id, now - timedelta(days=30)) for user_id in range(6001, 6121)]
    await shop.chat.send(ADMIN_ID, "/broadcast alle", first_name="Ines")
    await shop.chat.send(ADMIN_ID, "Frische Bohnen sind da!", first_name="Ines")
    _, rows = last_markup(shop, "sendMessage")
    await shop.chat.press(ADMIN_ID, rows[1][2]["callback_data"])  # 20 %
    await shop.chat.press(ADMIN_ID, rows[0][0]["callback_data"])  # Senden
    with store.session() as session:
        campaign_id = session.exec(select(Campaign.id)).one()
    held = [c for c in people if holdout.held_back(campaign_id, c, 20)]
    recipients = [c for c in people if c not in held]
    buyers = recipients[::2] + held[::4]
    with store.session() as session:
        for n, customer_id in enumerate(buyers):
            purchases.book_purchase(session, customer_id, Decimal(10), shop.services.config.loyalty,
                                    now + timedelta(days=2), f"t:{n}", purchases.COUNTER)
    share = lambda group: 100 * len([c for c in group if c in buyers]) / len(group)  # noqa: E731
    uplift = formatting.signed_number(round(share(recipients) - share(held), 1), "de")

    shop.services.clock.moment = now + timedelta(days=14)
    await shop.chat.send(ADMIN_ID, "/kampagnen", first_name="Ines")
    assert f"Unterschied: {uplift} Prozentpunkte Käufer" in shop.telegram.sent(ADMIN_ID)[-1]
    await shop.chat.send(ADMIN_ID, "/bericht 30", first_name="Ines")
    summary = shop.telegram.sent(ADMIN_ID)[-1]
    assert "Kampagnen des Zeitraums gegen ihre Kontrollgruppe" in summary and "„Frische Bohnen sind da!“" in summary
    assert f"Kontrollgruppe: {len(held)} · " in summary and f"Unterschied: {uplift} Prozentpunkte Käufer" in summary
    await shop.chat.send(ADMIN_ID, "/bericht 01.01.2026-30.06.2026", first_name="Ines")  # a period without the campaign
    assert "Kontrollgruppe" not in shop.telegram.sent(ADMIN_ID)[-1]
    assert not shop.errors
