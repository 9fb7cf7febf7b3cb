"""The owner home in the wiring: an owner's plain /start (and /uebersicht, /home) opens it with
the setup checklist and the buttons; customers and deep links are onboarded as before; each
button does its job, and a forged ``home:`` press by a customer changes nothing."""

from __future__ import annotations

import json

import pytest

from bot.settings import Settings
from domain import customers, setup_checklist
from tests.handlers.conftest import ADMIN_ID, STAFF_CHAT_ID

CUSTOMER = 501
SECOND_OWNER = 701
BUTTONS = ["home:report", "home:campaigns", "home:tickets", "home:segments", "home:import", "home:export",
           "home:customer"]


def keyboard_of_last_message(shop, chat_id: int) -> list[str]:
    """The callback data of the inline keyboard under the last message sent to ``chat_id``."""
    params = [params for name, params in shop.telegram.calls
              if name == "sendMessage" and int(params["chat_id"]) == chat_id][-1]
    markup = params.get("reply_markup") or {}
    markup = json.loads(markup) if isinstance(markup, str) else markup
    return [button["callback_data"] for row in markup.get("inline_keyboard", []) for button in row]


def item_text(shop, key: str, state: str, **params) -> str:
    return shop.text(f"owner_home.items.{key}.{state}", **params)


async def test_an_owners_start_opens_the_home_with_the_open_items_and_the_buttons(shop):
    await shop.chat.send(ADMIN_ID, "/start", first_name="Ines")
    (home,) = shop.telegram.sent(ADMIN_ID)
    assert home.startswith(shop.text("owner_home.greeting", name="Ines"))
    assert "✅ " + item_text(shop, "staff_chat", "done") in home
    assert "⬜ " + item_text(shop, "bot_admin", "open") in home  # the fake group says the bot is no admin
    assert "✅ " + item_text(shop, "privacy", "done") in home
    assert "⬜ " + item_text(shop, "faq", "open") in home  # the bundled sample
    assert "⬜ " + item_text(shop, "receipt_secret", "open") in home
    assert "webhook" not in home.lower()  # polling: no webhook secret needed
    assert "✅ " + item_text(shop, "owners_reachable", "done") in home  # the owner has just written
    assert keyboard_of_last_message(shop, ADMIN_ID) == BUTTONS
    with shop.services.store.session() as session:  # the owner has a chat now (reports reach them)
        assert customers.find_account(session, ADMIN_ID) is not None
    assert shop.errors == []


async def test_an_owner_who_never_wrote_is_named(shop):
    shop.services.config = shop.services.config.with_overrides((ADMIN_ID, SECOND_OWNER), STAFF_CHAT_ID)
    await shop.chat.send(ADMIN_ID, "/start")
    (home,) = shop.telegram.sent(ADMIN_ID)
    assert "⬜ " + item_text(shop, "owners_reachable", "open", detail=str(SECOND_OWNER)) in home


async def test_a_staff_group_telegram_cannot_tell_about_is_reported_as_unchecked(shop, monkeypatch):
    async def refuse_get_chat_member(url, method, request_data=None, **kwargs):
        if url.endswith("/getChatMember"):
            refusal = {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
            return 400, json.dumps(refusal).encode()
        return await original(url, method, request_data, **kwargs)

    original = shop.telegram.do_request
    monkeypatch.setattr(shop.telegram, "do_request", refuse_get_chat_member)
    await shop.chat.send(ADMIN_ID, "/start")
    (home,) = shop.telegram.sent(ADMIN_ID)
    assert "⬜ " + item_text(shop, "bot_admin", "unknown") in home
    assert shop.errors == []


async def test_a_shop_with_everything_set_up_says_so(shop, monkeypatch):
    answer = shop.telegram._result

    def bot_is_the_groups_creator(name, params):
        if name == "getChatMember":
            return {"status": "creator", "is_anonymous": False,
                    "user": {"id": int(params["user_id"]), "is_bot": True, "first_name": "Morgenrot"}}
        return answer(name, params)

    monkeypatch.setattr(shop.telegram, "_result", bot_is_the_groups_creator)
    monkeypatch.setattr(setup_checklist, "faq_is_sample", lambda answers: False)  # as if the owner wrote their own
    shop.services.settings = Settings(TELEGRAM_BOT_TOKEN="123:abc", STAMMGAST_RECEIPT_SECRET="k3Y9-" * 8)
    await shop.chat.send(ADMIN_ID, "/start")
    (home,) = shop.telegram.sent(ADMIN_ID)
    assert shop.text("owner_home.all_done") in home
    assert "⬜" not in home and "✅ Team-Gruppe" not in home  # no list when nothing is left to do


@pytest.mark.parametrize("command", ["/uebersicht", "/home"])
async def test_the_home_has_its_own_command(shop, command):
    await shop.chat.send(ADMIN_ID, command)
    assert keyboard_of_last_message(shop, ADMIN_ID) == BUTTONS


async def test_in_the_staff_group_the_home_points_to_the_private_chat(shop):
    await shop.chat.send(ADMIN_ID, "/uebersicht", chat_id=STAFF_CHAT_ID)
    assert shop.telegram.sent(STAFF_CHAT_ID) == [shop.services.texts.render("owner_home.private_only",
                                                                           shop.services.staff_voice)]


async def test_a_customers_start_is_the_onboarding_as_before(shop):
    await shop.chat.send(CUSTOMER, "/start")
    (first_contact,) = shop.telegram.sent(CUSTOMER)  # greeting and consent question in one message
    assert first_contact.startswith("Hallo Lena! 👋")
    assert first_contact.endswith(shop.text("consent.question"))


async def test_an_owners_deep_link_is_not_the_home(shop):
    await shop.chat.send(ADMIN_ID, "/start x_unknown")  # an unknown link is a plain /start of the onboarding
    assert shop.telegram.sent(ADMIN_ID)[0].startswith("Hallo Lena! 👋")
    assert "home:report" not in keyboard_of_last_message(shop, ADMIN_ID)


@pytest.mark.parametrize("action, expected", [
    ("campaigns", "campaigns.none_yet"),
    ("tickets", "tickets.list_empty"),
    ("import", "owner_home.import_how_to"),
    ("customer", "menu.prompt"),
])
async def test_each_button_answers_and_does_its_job(shop, action, expected):
    await shop.chat.send(ADMIN_ID, "/start")
    await shop.chat.press(ADMIN_ID, f"home:{action}")
    assert shop.telegram.toasts() == [""]
    assert shop.telegram.sent(ADMIN_ID)[-1] == shop.text(expected)
    assert shop.errors == []


async def test_the_report_button_sends_the_dashboard(shop):
    await shop.chat.send(ADMIN_ID, "/start")
    await shop.chat.press(ADMIN_ID, "home:report")
    assert [name for name, _ in shop.telegram.calls].count("sendPhoto") == 1
    assert shop.errors == []


async def test_the_segment_and_export_buttons_say_how(shop):
    await shop.chat.send(ADMIN_ID, "/start")
    await shop.chat.press(ADMIN_ID, "home:segments")
    await shop.chat.press(ADMIN_ID, "home:export")
    *_, segments, export = shop.telegram.sent(ADMIN_ID)
    assert segments.startswith("👥 <b>Kundengruppen</b>") and segments.endswith(shop.text("owner_home.segments_how_to"))
    assert "/export" in export
    assert shop.errors == []


async def test_a_customers_forged_home_press_changes_nothing(shop):
    await shop.chat.send(CUSTOMER, "/start")
    before = len(shop.telegram.sent(CUSTOMER))
    await shop.chat.press(CUSTOMER, "home:report")
    await shop.chat.press(CUSTOMER, "home:customer")
    assert shop.telegram.sent(CUSTOMER)[before:] == []
    assert shop.telegram.toasts() == [shop.services.texts.plain("reports.not_admin", shop.services.voice("de"))] * 2
    assert [name for name, _ in shop.telegram.calls].count("sendPhoto") == 0
