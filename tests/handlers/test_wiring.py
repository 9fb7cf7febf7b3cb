"""The wiring tables of bot.app, through the real Application without a Telegram server:
steps and intents reach their handlers, every command is guarded as declared, the menus come
from the same table, and a customer's free text costs at most two transactions."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from sqlmodel import select

import domain
from bot.access import Who
from bot.app import BUTTONS, COMMANDS, ROUTES, command_list, owner_command_list, staff_command_list
from domain import (campaigns, consent, customers, data_rights, feedback, imports, loop, outbox, rewards, surveys,
                    tickets)
from domain.message_log import log_inbound
from domain.rules.errors import Refusal
from nlu.client import ParseResult
from storage.models import Feedback, MessageLog, Ticket
from tests.handlers.conftest import ADMIN_ID, STAFF_CHAT_ID

CUSTOMER = 501
STRANGER = 502


async def known_customer(shop, user_id: int = CUSTOMER) -> None:
    await shop.chat.send(user_id, "/start")
    await shop.chat.press(user_id, "consent:no")


# --- transactions per message ------------------------------------------------------------------

UNDERSTOOD = {
    "wie viele punkte hab ich": ParseResult("check_points", 0.97),
    "habt ihr sonntags auf": ParseResult("faq", 0.95, faq_topic="opening_hours", faq_confidence=0.95),
    "hallo": ParseResult("greet", 0.99),
    "was kann ich einlösen": ParseResult("rewards_catalog", 0.9),
    "keine werbung mehr bitte": ParseResult("opt_out", 0.9),
    "der kaffee war heute eiskalt und keiner hat sich gekümmert": ParseResult("complaint", 0.95),
    "ich möchte mit einem menschen sprechen": ParseResult("human_handoff", 0.95),
    "blubb fasel": ParseResult("nlu_fallback", 0.3),
}


@pytest.mark.parametrize("text", list(UNDERSTOOD))
async def test_a_free_text_costs_at_most_two_transactions_besides_the_nlu(shop, text):
    await known_customer(shop)
    shop.nlu.understood.update(UNDERSTOOD)
    before = shop.transactions.count
    answered_before = len(shop.telegram.sent(CUSTOMER))
    await shop.chat.send(CUSTOMER, text)
    assert shop.transactions.count - before <= 2
    assert len(shop.telegram.sent(CUSTOMER)) > answered_before  # it was answered
    with shop.services.store.session() as session:  # and logged, in one of those two
        logged = session.exec(select(MessageLog).where(MessageLog.text == text)).all()
    assert len(logged) == 1 and logged[0].intent == UNDERSTOOD[text].label
    assert not shop.errors


async def test_a_message_on_an_open_ticket_goes_to_the_team_in_two_transactions(shop):
    await known_customer(shop)
    shop.nlu.understood.update(UNDERSTOOD)
    await shop.chat.send(CUSTOMER, "der kaffee war heute eiskalt und keiner hat sich gekümmert")
    shop.nlu.understood["und die milch war sauer"] = ParseResult("complaint", 0.6)
    before = shop.transactions.count
    await shop.chat.send(CUSTOMER, "und die milch war sauer")
    assert shop.transactions.count - before == 2
    assert shop.telegram.sent(CUSTOMER)[-1] == shop.text("tickets.relayed", number=1)


async def test_a_refused_use_case_keeps_what_the_update_deferred(shop):
    """A use case that refuses rolls its transaction back; the message log deferred before it
    is written anyway, and a later transaction does not write it twice."""
    services = shop.services
    services.defer(log_inbound, None, CUSTOMER, "text", "vergessen?", services.now(), None, None)

    def refuse(session):
        raise Refusal("nope")

    with pytest.raises(Refusal):
        await services.db(refuse)
    await services.flush_deferred()
    with services.store.session() as session:
        assert len(session.exec(select(MessageLog).where(MessageLog.text == "vergessen?")).all()) == 1


async def test_outbox_rows_wake_the_dispatcher_without_being_asked(shop):
    services = shop.services
    services.outbox_wakeup.clear()
    await services.db(customers.find_by_code, "K7QX2M")  # reads only
    assert not services.outbox_wakeup.is_set()
    await services.db(outbox.enqueue, "test:1", CUSTOMER, outbox.MessageSpec(text="Hallo"), outbox.SERVICE,
                      services.now())
    assert services.outbox_wakeup.is_set()


# --- the step table ------------------------------------------------------------------------------

def _step_names() -> set[str]:
    """Every conversation step the domain defines (module constants named ``*STEP``)."""
    names = set()
    for module_info in pkgutil.walk_packages(domain.__path__, "domain."):
        module = importlib.import_module(module_info.name)
        names |= {value for name, value in vars(module).items() if name.endswith("STEP") and isinstance(value, str)}
    return names


def test_every_step_is_answered_by_the_table_or_by_its_own_buttons():
    # Steps whose answer is a button press (or the relay to the ticket) rather than the next message.
    by_buttons = {rewards.REDEEM_STEP, customers.BIRTHDAY_CONFIRM_STEP, loop.STEP, imports.PENDING_STEP,
                  data_rights.ERASE_STEP, tickets.CHAT_STEP}
    assert {campaigns.TEXT_STEP, surveys.REASON_STEP, feedback.FEEDBACK_STEP, consent.MARKETING_STEP} <= _step_names()
    assert set(ROUTES.steps) | set(ROUTES.answers) == _step_names() - by_buttons
    assert not set(ROUTES.steps) & set(ROUTES.answers)


async def test_the_step_takes_the_next_message_before_the_nlu(shop):
    await known_customer(shop)
    await shop.chat.send(CUSTOMER, "/feedback")
    shop.nlu.understood["Ganz großes Lob"] = ParseResult("greet", 0.99)  # would be small talk without the step
    await shop.chat.send(CUSTOMER, "Ganz großes Lob")
    assert shop.telegram.sent(CUSTOMER)[-1] == shop.text("feedback.thanks")
    with shop.services.store.session() as session:
        assert session.exec(select(Feedback)).one().text == "Ganz großes Lob"


async def test_a_step_that_does_not_take_the_message_lets_the_nlu_answer(shop):
    await known_customer(shop)
    await shop.chat.send(CUSTOMER, "/geburtstag")
    shop.nlu.understood.update(UNDERSTOOD)
    await shop.chat.send(CUSTOMER, "wie viele punkte hab ich")  # not a date: the question is answered
    assert "Punkte" in shop.telegram.sent(CUSTOMER)[-1]


async def test_a_typed_yes_answers_the_open_question(shop):
    await known_customer(shop)
    await shop.chat.send(CUSTOMER, "/start")
    await shop.chat.press(CUSTOMER, "marketing:on")
    shop.nlu.understood.update(UNDERSTOOD)
    shop.nlu.understood["ja"] = ParseResult("affirm", 0.99)
    await shop.chat.send(CUSTOMER, "keine werbung mehr bitte")
    await shop.chat.send(CUSTOMER, "ja")
    assert shop.telegram.sent(CUSTOMER)[-1] == shop.text("marketing.stopped")
    with shop.services.store.session() as session:
        assert customers.get(session, 1).marketing_consent is False


async def test_a_sticker_gets_a_kind_note_whatever_the_step(shop):
    await known_customer(shop)
    await shop.chat.send(CUSTOMER, "/feedback")
    await shop.chat.sticker(CUSTOMER)
    assert shop.telegram.sent(CUSTOMER)[-1] == shop.text("understanding.not_text")
    with shop.services.store.session() as session:
        assert session.exec(select(Feedback)).first() is None


# --- the permission table ------------------------------------------------------------------------

def _first_name(who: Who) -> list[str]:
    return [command.names[0] for command in COMMANDS if command.who is who]


@pytest.mark.parametrize("name", _first_name(Who.STAFF))
async def test_staff_commands_refuse_customers_kindly(shop, name):
    await known_customer(shop, STRANGER)
    await shop.chat.send(STRANGER, f"/{name} K7QX2M 4,50")
    assert shop.telegram.sent(STRANGER)[-1] == shop.text("counter.not_staff")


@pytest.mark.parametrize("name", _first_name(Who.OWNER))
async def test_owner_commands_refuse_everyone_else(shop, name):
    await known_customer(shop, STRANGER)
    await shop.chat.send(STRANGER, f"/{name} alle")
    assert shop.telegram.sent(STRANGER)[-1] == shop.text("reports.not_admin")


@pytest.mark.parametrize("name", _first_name(Who.OWNER))
async def test_owner_commands_refuse_staff_in_the_group(shop, name):
    await shop.chat.send(STRANGER, f"/{name}", chat_id=STAFF_CHAT_ID)
    assert shop.telegram.sent(STAFF_CHAT_ID)[-1] == shop.text("reports.not_admin")


async def test_staff_commands_work_for_the_team_in_the_group(shop):
    await shop.chat.send(STRANGER, "/tickets", chat_id=STAFF_CHAT_ID)
    assert shop.telegram.sent(STAFF_CHAT_ID)[-1] == shop.text("tickets.list_empty")


@pytest.mark.parametrize("button", [b for b in BUTTONS if b.who is not Who.CUSTOMER], ids=lambda b: b.pattern)
async def test_team_buttons_pressed_by_a_customer_change_nothing(shop, button):
    await known_customer(shop)
    await shop.chat.send(CUSTOMER, "/beschwerde")
    await shop.chat.send(CUSTOMER, "der kaffee war heute eiskalt und keiner hat sich gekümmert")
    data = {"^tkt:undo": "tkt:undo:1:1", "tkt:": "tkt:claim:1", "^tkt:gw": "tkt:gw:1:50", "camp": "camp:ok:1:abcdef", "loop": "loop:ok:abcdef",
            "erase_for": "erase_for:abcdef012345", "held": "held:ok:1:0123456789ab", "setup:group": "setup:group:-100555",
            "buy:undo": "buy:undo:1",
            "use:": "use:K7QX2M9P"}  # "Einlösen" under a scanned code
    pressed = next((value for prefix, value in data.items() if prefix.lstrip("^") in button.pattern), None)
    assert pressed is not None, button.pattern
    await shop.chat.press(CUSTOMER, pressed)
    assert shop.telegram.toasts()[-1] in (shop.text("errors.stale_button"), shop.text("reports.not_admin"))
    with shop.services.store.session() as session:
        ticket = session.get(Ticket, 1)
        assert ticket.claimed_by_id is None
    assert not shop.errors


# --- the command menus ---------------------------------------------------------------------------

def test_the_menus_come_from_the_same_table(shop):
    services = shop.services
    customer_menu = [c.command for c in command_list(services, "de")]
    assert customer_menu == ["start", "punkte", "karte", "praemien", "empfehlen", "geburtstag", "feedback",
                             "beschwerde", "hilfe", "sprache", "einstellungen", "stop", "datenschutz"]
    assert [c.command for c in command_list(services, "en")][:3] == ["start", "points", "card"]
    assert [c.command for c in staff_command_list(services)] == _first_name(Who.STAFF)
    owner_menu = [c.command for c in owner_command_list(services)]
    assert owner_menu == customer_menu + _first_name(Who.STAFF) + _first_name(Who.OWNER)
    assert all(c.description for c in owner_command_list(services))


async def test_an_admin_may_use_owner_commands(shop):
    await shop.chat.send(ADMIN_ID, "/segment alle")
    assert shop.telegram.sent(ADMIN_ID)[-1] != shop.text("reports.not_admin")
    assert not shop.errors
