"""Closing the loop on SQLite and PostgreSQL: who gets "you said it, we changed it", and that
"Senden" queues each message once; plus reading "/loop <topic> <message>"."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from domain import conversation, customers, loop, outbox
from storage.models import Customer, OutboxMessage, Survey, TelegramAccount
from tests.use_cases.people import onboarded_customer

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)
NAMES = {"qualitaet": ["Qualität", "Quality"], "wartezeit": ["Wartezeit/Lieferung", "Waiting/delivery"],
         "sortiment": ["Sortiment", "Range of products"]}


def customer(store, user_id: int, consent_granted: bool = True) -> int:
    return onboarded_customer(store, user_id, NOW, consent_granted)


def answered(store, customer_id: int, topics: list[str], days_ago: int = 10) -> None:
    at = NOW - timedelta(days=days_ago)
    with store.session() as session:
        session.add(Survey(customer_id=customer_id, status="done", created_at=at, due_at=at, score=4,
                           answered_at=at, reason="…", topics=topics))


def owner(store) -> int:
    return customer(store, 900001, consent_granted=False)


def pending(store, owner_id: int, nonce: str = "a1b2c3d4e5f6", topic: str = "wartezeit") -> None:
    with store.session() as session:
        loop.remember(session, owner_id, loop.PendingLoop(nonce, topic, "Zweite Kasse ab 8 Uhr."), NOW)


def send(store, owner_id: int, nonce: str = "a1b2c3d4e5f6", now: datetime = NOW):
    with store.session() as session:
        return loop.send(session, owner_id, nonce, now)


def queued(store) -> list[OutboxMessage]:
    with store.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.customer_id)))


def test_recipients_are_exactly_those_with_the_topic_consent_a_chat_and_a_recent_reason(store):
    anna, ben, carla, dora, emil, fritz = (customer(store, n) for n in range(1, 7))
    with store.session() as session:  # Carla said /stop later
        session.get(Customer, carla).marketing_consent = False
    with store.session() as session:  # Dora blocked the bot
        customers.mark_unreachable(session, 4, NOW)
    answered(store, anna, ["qualitaet", "wartezeit"])
    answered(store, ben, ["preis"])                        # another topic
    answered(store, carla, ["wartezeit"])
    answered(store, dora, ["wartezeit"])
    answered(store, emil, ["wartezeit"], days_ago=200)     # too long ago
    answered(store, fritz, ["wartezeit"])
    answered(store, fritz, ["wartezeit", "service"])       # two reasons, one message
    with store.session() as session:
        found = loop.recipients(session, "wartezeit", NOW)
        assert [c.id for c, _ in found] == [anna, fritz]
        assert [a.chat_id for _, a in found] == [1, 6]
        assert loop.count_recipients(session, "preis", NOW) == 1
        assert loop.count_recipients(session, "sauberkeit", NOW) == 0


def test_send_queues_one_marketing_message_per_recipient_once(store):
    the_owner = owner(store)
    anna, ben, carla = customer(store, 1), customer(store, 2), customer(store, 3)
    with store.session() as session:
        customers.choose_language(session, ben, "en")
    for who in (anna, ben):
        answered(store, who, ["wartezeit"])
    answered(store, carla, ["preis"])
    pending(store, the_owner)

    assert send(store, the_owner) == 2
    rows = queued(store)
    assert [(r.customer_id, r.chat_id, r.category) for r in rows] == [(anna, 1, outbox.MARKETING),
                                                                         (ben, 2, outbox.MARKETING)]
    assert [r.idempotency_key for r in rows] == [f"loop:a1b2c3d4e5f6:{anna}", f"loop:a1b2c3d4e5f6:{ben}"]
    specs = [outbox.MessageSpec.from_payload(r.payload) for r in rows]
    assert {s.template for s in specs} == {loop.TEMPLATE}
    # The topic's name is rendered in each customer's language when the row is sent.
    assert [s.params for s in specs] == 2 * [{"topic": outbox.text_param("topics.wartezeit"),
                                              "change": "Zweite Kasse ab 8 Uhr."}]

    assert send(store, the_owner) is None                     # the second press
    assert send(store, the_owner, nonce="ffffffffffff") is None  # a forged nonce
    assert len(queued(store)) == 2


def test_a_forged_nonce_neither_sends_nor_spends_the_real_preview(store):
    the_owner, anna = owner(store), customer(store, 1)
    answered(store, anna, ["wartezeit"])
    pending(store, the_owner)
    assert send(store, the_owner, nonce="000000000000") is None
    with store.session() as session:
        assert loop.cancel(session, the_owner, "000000000000", NOW) is False
    assert queued(store) == []
    assert send(store, the_owner) == 1


def test_cancel_sends_nothing_and_a_later_send_finds_nothing(store):
    the_owner, anna = owner(store), customer(store, 1)
    answered(store, anna, ["wartezeit"])
    pending(store, the_owner)
    with store.session() as session:
        assert loop.cancel(session, the_owner, "a1b2c3d4e5f6", NOW) is True
    with store.session() as session:
        assert loop.cancel(session, the_owner, "a1b2c3d4e5f6", NOW) is False
    assert send(store, the_owner) is None
    assert queued(store) == []


def test_a_preview_waits_a_day_and_survives_in_the_database(store):
    the_owner, anna = owner(store), customer(store, 1)
    answered(store, anna, ["wartezeit"])
    pending(store, the_owner)
    with store.session() as session:
        assert conversation.current_step(session, the_owner, NOW).name == loop.STEP
    assert send(store, the_owner, now=NOW + loop.PENDING_LIFETIME + timedelta(seconds=1)) is None
    assert queued(store) == []


def test_recipients_are_chosen_when_sending_so_a_stop_in_between_is_respected(store):
    the_owner, anna, ben = owner(store), customer(store, 1), customer(store, 2)
    for who in (anna, ben):
        answered(store, who, ["wartezeit"])
    pending(store, the_owner)
    with store.session() as session:
        session.get(Customer, ben).marketing_consent = False
    assert send(store, the_owner) == 1
    assert [r.customer_id for r in queued(store)] == [anna]


def test_a_customer_without_telegram_gets_nothing(store):
    the_owner, anna = owner(store), customer(store, 1)
    answered(store, anna, ["wartezeit"])
    with store.session() as session:
        session.delete(session.get(TelegramAccount, 1))
    pending(store, the_owner)
    assert send(store, the_owner) == 0
    assert queued(store) == []


# --- reading the request (no database) ----------------------------------------------------------

@pytest.mark.parametrize("text", ["wartezeit Zweite Kasse", "Wartezeit Zweite Kasse", "WARTEZEIT: Zweite Kasse",
                                  "Wartezeit/Lieferung Zweite Kasse", "lieferung Zweite Kasse",
                                  "„Wartezeit“ Zweite Kasse", "waiting Zweite Kasse"])
def test_the_topic_is_found_by_key_or_label_in_any_case(text):
    assert loop.parse_request(text, NAMES) == loop.LoopRequest("wartezeit", "Zweite Kasse")


@pytest.mark.parametrize("text", ["qualitaet Neue Bohnen", "Qualität Neue Bohnen", "qualität Neue Bohnen",
                                  "QUALITAT Neue Bohnen", "Quality Neue Bohnen"])
def test_umlaut_spellings_of_a_topic_are_the_same(text):
    assert loop.parse_request(text, NAMES).topic == "qualitaet"


def test_a_label_of_several_words_wins_over_a_shorter_one_and_line_breaks_are_kept():
    request = loop.parse_request("range of products Neu:\nHafermilch\n und Sojamilch ", NAMES)
    assert request == loop.LoopRequest("sortiment", "Neu:\nHafermilch\n und Sojamilch")


@pytest.mark.parametrize(("text", "reason", "value"), [
    ("", "topic_missing", ""),
    ("   ", "topic_missing", ""),
    ("kaffee Neue Bohnen", "topic_unknown", "kaffee"),
    ("sonstiges Alles neu", "topic_unknown", "sonstiges"),  # "matched nothing" is no topic to thank for
    ("wartezeit", "message_missing", ""),
    ("wartezeit  :  ", "message_missing", ""),
    ("wartezeit " + "x" * 1001, "message_too_long", 1001),
])
def test_unusable_requests_say_why(text, reason, value):
    with pytest.raises(loop.LoopError) as refused:
        loop.parse_request(text, NAMES)
    assert (refused.value.reason, refused.value.value) == (reason, value)


def test_a_message_of_exactly_the_limit_is_fine():
    assert len(loop.parse_request("preis " + "x" * loop.MAX_CHARS, NAMES).message) == loop.MAX_CHARS
