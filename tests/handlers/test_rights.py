"""The data rights through the wiring: who may use which command, the intents that were "not
yet" reach their handlers, the export arrives as two documents, and the erasure buttons do
nothing unless they carry the question's nonce and are pressed by the one who asked."""

from __future__ import annotations

from sqlmodel import select

from bot.access import Who
from bot.app import BUTTONS, COMMANDS, ROUTES
from bot.handlers import rights
from nlu.client import ParseResult
from storage.models import Customer, DataRequest, TelegramAccount
from tests.handlers.conftest import ADMIN_ID, STAFF_CHAT_ID

CUSTOMER, OTHER = 601, 602


def declared() -> dict[str, Who]:
    return {name: command.who for command in COMMANDS for name in command.names}


def test_the_commands_are_declared_for_the_right_people():
    who = declared()
    assert [who[name] for name in ("meinedaten", "mydata", "loeschen", "delete")] == [Who.CUSTOMER] * 4
    assert [who[name] for name in ("kunde_export", "kunde_loeschen")] == [Who.OWNER] * 2
    buttons = {button.pattern: button.who for button in BUTTONS}
    assert (buttons[rights.ERASE_PATTERN], buttons[rights.OWNER_PATTERN]) == (Who.CUSTOMER, Who.OWNER)
    assert ROUTES.intents["export_data"] is rights.on_export_intent
    assert ROUTES.intents["delete_data"] is rights.on_delete_intent


def documents(shop, chat_id: int) -> list[dict]:
    return [params for name, params in shop.telegram.calls
            if name == "sendDocument" and int(params["chat_id"]) == chat_id]


def keyboard_data(shop, chat_id: int) -> list[str]:
    """The callback data of the last message with buttons sent to a chat."""
    for name, params in reversed(shop.telegram.calls):
        if name == "sendMessage" and int(params["chat_id"]) == chat_id and params.get("reply_markup"):
            markup = params["reply_markup"]
            markup = markup if isinstance(markup, dict) else __import__("json").loads(markup)
            return [button["callback_data"] for row in markup["inline_keyboard"] for button in row]
    raise AssertionError("no buttons sent")


async def test_the_export_intent_sends_two_documents(shop):
    await shop.chat.send(CUSTOMER, "/start")
    shop.nlu.understood["welche daten habt ihr über mich"] = ParseResult("export_data", 0.95)
    await shop.chat.send(CUSTOMER, "welche daten habt ihr über mich")
    assert shop.telegram.sent(CUSTOMER)[-3] == shop.text("rights.export_intro")
    assert len(documents(shop, CUSTOMER)) == 2
    await shop.chat.send(CUSTOMER, "/mydata")
    assert len(documents(shop, CUSTOMER)) == 4
    assert not shop.errors


async def test_erasure_needs_the_questions_own_button(shop):
    await shop.chat.send(CUSTOMER, "/start")
    shop.nlu.understood["löscht alle meine daten"] = ParseResult("delete_data", 0.95)
    await shop.chat.send(CUSTOMER, "löscht alle meine daten")
    confirm, cancel = keyboard_data(shop, CUSTOMER)
    assert cancel == rights.ERASE_CANCEL and confirm.startswith(rights.ERASE_PREFIX)
    await shop.chat.press(CUSTOMER, "erase:0123456789ab")  # forged
    await shop.chat.press(OTHER, confirm)  # someone else's press finds no question of theirs
    assert shop.telegram.toasts()[-2:] == [shop.text("errors.done_button")] * 2
    with shop.services.store.session() as session:
        assert session.get(TelegramAccount, CUSTOMER) is not None
        assert session.get(TelegramAccount, OTHER) is None  # the press registered nobody
    await shop.chat.press(CUSTOMER, confirm)
    assert shop.telegram.sent(CUSTOMER)[-1] == shop.text("rights.erased")
    with shop.services.store.session() as session:
        assert session.get(TelegramAccount, CUSTOMER) is None
        assert session.get(Customer, 1).erased_at is not None
    await shop.chat.press(CUSTOMER, confirm)  # again: nothing, and no new customer
    assert shop.telegram.toasts()[-1] == shop.text("errors.done_button")
    with shop.services.store.session() as session:
        assert session.get(TelegramAccount, CUSTOMER) is None
    assert not shop.errors


async def test_an_owner_executes_a_request_by_code(shop):
    await shop.chat.send(CUSTOMER, "/start")
    with shop.services.store.session() as session:
        code = session.get(Customer, 1).code
    await shop.chat.send(ADMIN_ID, "/kunde_export")
    assert shop.telegram.sent(ADMIN_ID)[-1] == shop.text("rights.owner_usage_export")
    await shop.chat.send(ADMIN_ID, "/kunde_export XYZ")
    assert shop.telegram.sent(ADMIN_ID)[-1] == shop.text("rights.errors.invalid_code", code="XYZ")
    await shop.chat.send(ADMIN_ID, f"/kunde_export {code}", chat_id=STAFF_CHAT_ID)
    assert len(documents(shop, ADMIN_ID)) == 2 and documents(shop, STAFF_CHAT_ID) == []  # never in the group
    await shop.chat.send(ADMIN_ID, f"/kunde_loeschen {code}")
    confirm, _ = keyboard_data(shop, ADMIN_ID)
    assert confirm.startswith(rights.OWNER_PREFIX)
    await shop.chat.press(ADMIN_ID, confirm)
    with shop.services.store.session() as session:
        assert session.get(Customer, 1).erased_at is not None
        assert session.exec(select(DataRequest.kind, DataRequest.executed_by)).all() == [
            ("export", ADMIN_ID), ("erasure", ADMIN_ID)]
    assert not shop.errors
