"""Closing the loop: the owner tells the customers who raised a topic in their survey reason
what the shop changed ("you said it, we changed it").

Who gets it: every customer who gave a survey reason tagged with the topic in the last
``WINDOW`` (180 days: long enough to reach those who spoke up before the change was made,
short enough that they still remember saying it), who agreed to hear from the shop (it is
marketing) and whose Telegram chat can be reached. Everyone else gets nothing.

Between the preview and "Senden" the loop waits as the owner's conversation step, so a
restart loses nothing. Taking that step and queueing the messages happen in one transaction,
and each outbox row's idempotency key ``loop:<nonce>:<customer id>`` means a second press, a
redelivered update or a second replica sends nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, select

from domain import conversation, outbox, surveys
from domain.rules import topics
from domain.outbox import MessageSpec
from storage.models import ConversationState, Customer, TelegramAccount
from domain.rules.errors import Refusal

WINDOW = timedelta(days=180)
MAX_CHARS = 1000
STEP = "confirm_loop"
# The owner may read the preview, ask the team and press "Senden" later the same day.
PENDING_LIFETIME = timedelta(hours=24)
TEMPLATE = "reports.loop.customer_message"
# "Sonstiges" is what matched no topic: "you wrote to us about something else" thanks nobody.
LOOP_TOPICS = tuple(topic for topic in topics.TOPICS if topic != topics.OTHER)
_ID_CHUNK = 500  # stay far below the bound-parameter limits of SQLite and PostgreSQL
_LONGEST_NAME_WORDS = 3  # "Range of products"


class LoopError(Refusal):
    """An unusable /loop request; ``reason`` is topic_missing, topic_unknown, message_missing
    or message_too_long, ``value`` what the owner typed as topic (or the message's length)."""


@dataclass(frozen=True)
class LoopRequest:
    topic: str
    message: str


@dataclass(frozen=True)
class PendingLoop:
    nonce: str
    topic: str
    message: str


# --- reading "/loop <topic> <message>" ---------------------------------------------------------

def _names_by_folded(names: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Every way to name a topic, folded: its key, its labels and the parts of a label
    ("Wartezeit/Lieferung" -> "wartezeit/lieferung", "wartezeit", "lieferung")."""
    found: dict[str, str] = {}
    for topic in LOOP_TOPICS:
        for name in (topic, *names.get(topic, ())):
            for variant in (name, *name.split("/")):
                folded = " ".join(topics.fold(variant).split())
                if folded:
                    found.setdefault(folded, topic)
    return found


def parse_request(text: str, names: Mapping[str, Iterable[str]]) -> LoopRequest:
    """The topic at the start of ``text`` (a key or a label of ``names``, case and umlaut
    spelling do not matter, the longest name wins) and the message after it, line breaks kept."""
    words = list(re.finditer(r"\S+", text or ""))
    if not words:
        raise LoopError("topic_missing")
    known = _names_by_folded(names)
    for count in range(min(_LONGEST_NAME_WORDS, len(words)), 0, -1):
        phrase = " ".join(word.group(0) for word in words[:count])
        topic = known.get(topics.fold(phrase).strip(" .,:;!?„“\"'"))
        if topic is not None:
            return LoopRequest(topic, _message(text[words[count - 1].end():]))
    raise LoopError("topic_unknown", words[0].group(0)[:40])


def _message(text: str) -> str:
    message = text.strip(" \t\r\n:–-")
    if not message:
        raise LoopError("message_missing")
    if len(message) > MAX_CHARS:
        raise LoopError("message_too_long", len(message))
    return message


# --- who gets it -------------------------------------------------------------------------------

def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _ID_CHUNK):
        yield ids[start:start + _ID_CHUNK]


def recipients(session: Session, topic: str, now: datetime) -> list[tuple[Customer, TelegramAccount]]:
    """Customers with this topic in a survey reason within ``WINDOW``, with marketing consent
    and a reachable chat, by customer id."""
    ids = surveys.customers_with_topic(session, topic, now - WINDOW)
    found: list[tuple[Customer, TelegramAccount]] = []
    for chunk in _chunks(ids):
        found += session.exec(
            select(Customer, TelegramAccount)
            .join(TelegramAccount, TelegramAccount.customer_id == Customer.id)
            .where(Customer.id.in_(chunk), Customer.marketing_consent.is_(True),
                   TelegramAccount.unreachable_since.is_(None))
        ).all()
    return sorted(found, key=lambda pair: pair[0].id)


def count_recipients(session: Session, topic: str, now: datetime) -> int:
    return len(recipients(session, topic, now))


def customer_message(topic: str, message: str) -> MessageSpec:
    """What a customer reads; the topic's name is rendered in their language when it is sent."""
    return MessageSpec(TEMPLATE, {"topic": outbox.text_param(f"topics.{topic}"), "change": message})


# --- the waiting loop ----------------------------------------------------------------------------

def remember(session: Session, owner_id: int, pending: PendingLoop, now: datetime) -> None:
    """Keep the previewed loop until the owner decides (replaces an older preview)."""
    conversation.set_step(session, owner_id, STEP, now,
                          {"nonce": pending.nonce, "topic": pending.topic, "message": pending.message},
                          lifetime=PENDING_LIFETIME)


def claim(session: Session, owner_id: int, nonce: str, now: datetime) -> PendingLoop | None:
    """Take the waiting loop with this nonce out of the conversation, once: of two presses
    (or two replicas) only one gets it. None for an old, used or forged nonce."""
    step = conversation.current_step(session, owner_id, now)
    if step is None or step.name != STEP or step.data.get("nonce") != nonce:
        return None
    taken = session.execute(delete(ConversationState).where(
        ConversationState.customer_id == owner_id, ConversationState.step == STEP)).rowcount
    if taken != 1:
        return None
    return PendingLoop(nonce, str(step.data["topic"]), str(step.data["message"]))


def send(session: Session, owner_id: int, nonce: str, now: datetime) -> int | None:
    """"Senden": one marketing outbox row per recipient; the number of recipients, or None
    when there was nothing (any more) to send.

    Recipients are chosen now, not at the preview, so a customer who said /stop in between
    gets nothing."""
    pending = claim(session, owner_id, nonce, now)
    if pending is None:
        return None
    found = recipients(session, pending.topic, now)
    for customer, account in found:
        outbox.enqueue(session, f"loop:{nonce}:{customer.id}", account.chat_id,
                       customer_message(pending.topic, pending.message), outbox.MARKETING, now, customer_id=customer.id)
    return len(found)


def cancel(session: Session, owner_id: int, nonce: str, now: datetime) -> bool:
    """"Abbrechen": False when this loop was already sent, cancelled or never existed."""
    return claim(session, owner_id, nonce, now) is not None
