"""The outbox: every proactive message is a row first, and one dispatcher sends the rows.

A row describes its message without Telegram types: a text key and parameters (rendered in
the recipient's language at send time) or literal text, plus buttons. The idempotency key
makes enqueueing safe to repeat, so a redelivered update or a re-run job never queues a
message twice; the status makes a restart resume exactly the rows that were not sent.

The outbox knows no feature. A feature whose rows need more than sending registers a
``Feature`` (``register``, at its module's import; ``domain.features`` lists those modules):
the rows it owns (by idempotency-key prefix), how their parameters are completed at send time
(``personalize``) and what follows when one ends undelivered (``undelivered``, in the
transaction that records it). ``Hooks`` binds them to the shop's config for the dispatcher.

Imports storage and ``domain.config`` only (no feature module, no telegram, no bot).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from domain.config import ShopConfig
from storage.models import OutboxMessage, TelegramAccount

PENDING, SENDING, SENT, FAILED, SKIPPED = "pending", "sending", "sent", "failed", "skipped"
# A message that went out as part of another row (``merge``): the row only keeps its key taken,
# so a repeated call queues it neither again nor as a row of its own. It has no payload.
MERGED = "merged"
SERVICE, STAFF, MARKETING = "service", "staff", "marketing"
# Of a chat's waiting rows the most urgent goes next (``claim_next_per_chat``), rows of the same
# priority in the order they were queued. Telegram lets 20 messages a minute into a group: when
# the staff group's minute is full, a ticket's alert, reminder or escalation is the next one to
# go, before relayed customer messages, booking and feedback notices.
NORMAL, URGENT = 0, 1
UNREACHABLE = "unreachable"  # how ``last_error`` starts when the recipient blocked the bot or is gone
MAX_ATTEMPTS = 8
# A claimed row belongs to its dispatcher for this long; if that process dies, any dispatcher
# (a restarted one or a replica) takes the row back after the lease ran out. Twice as long as a
# send can take with PTB's timeouts (connect, write and read 5 s each), so a live dispatcher's
# row is never sent twice, and short enough that a crash delays the row by half a minute only.
# A live dispatcher also renews the leases of the rows it holds (``renew_claims``), so waiting
# for Telegram (a 429 pause, a full group) never lets a row it still holds expire.
CLAIM_LEASE = timedelta(seconds=30)


def money_param(cents: int) -> dict[str, int]:
    """A money amount as a message parameter (rendered "4,50 €" in the recipient's locale)."""
    return {"money_cents": int(cents)}


def date_param(day: date) -> dict[str, str]:
    """A date as a message parameter (rendered "3. Mai 2026" in the recipient's locale)."""
    return {"date": day.isoformat()}


def moment_param(moment: datetime) -> dict[str, str]:
    """A point in time (rendered "Mo., 24.11., 09:20" in the shop's time zone)."""
    return {"moment": moment.isoformat()}


def deadline_param(due: datetime, as_of: datetime) -> dict[str, str]:
    """A deadline as people say it ("heute bis 15:30 Uhr"); "heute" and "morgen" count from
    ``as_of``, the moment the text was written."""
    return {"deadline": due.isoformat(), "as_of": as_of.isoformat()}


def link_param(payload: str, label: str) -> dict[str, str]:
    """``label`` as a link that opens the bot with ``/start payload`` (a coupon code that shows
    its QR code). The bot's name is known where the message is sent (``bot.texts.with_links``);
    without it the label stays plain text."""
    return {"deep_link": payload, "label": label}


def text_param(key: str, **params: Any) -> dict[str, Any]:
    """Another text, rendered in the recipient's language (a topic's name, a status line)."""
    return {"text_key": key, "params": params}


def texts_param(items: list | tuple, separator: str = ", ") -> dict[str, Any]:
    """Several texts (keys or ``text_param``s) joined, e.g. the reasons for a priority."""
    return {"text_keys": list(items), "separator": separator}


@dataclass(frozen=True)
class Button:
    label: str  # a text key, rendered in the recipient's language ...
    callback: str | None = None
    url: str | None = None
    text: str | None = None  # ... or a literal label such as "7"


# What a message can carry besides its text: a file Telegram already has, shown as one of these.
PHOTO, DOCUMENT, VOICE, VIDEO, VIDEO_NOTE, AUDIO, ANIMATION = (
    "photo", "document", "voice", "video", "video_note", "audio", "animation")
ATTACHMENT_KINDS = (PHOTO, DOCUMENT, VOICE, VIDEO, VIDEO_NOTE, AUDIO, ANIMATION)
# Telegram shows a round video message without a caption: its words need a message of their own.
WITHOUT_CAPTION = frozenset({VIDEO_NOTE})


@dataclass(frozen=True)
class Attachment:
    """A file by its Telegram file id, and how it is shown (a photo, a voice message ...); the
    dispatcher sends each kind with its own Bot API method."""

    kind: str
    file_id: str

    def __post_init__(self) -> None:
        if self.kind not in ATTACHMENT_KINDS:
            raise ValueError(f"unknown attachment kind {self.kind!r}")

    @property
    def takes_caption(self) -> bool:
        return self.kind not in WITHOUT_CAPTION


@dataclass(frozen=True)
class MessageSpec:
    template: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    text: str | None = None  # literal text, used when there is no template
    buttons: tuple[tuple[Button, ...], ...] = ()
    # A photo, a file, a voice message ... (a Telegram file id); the text becomes its caption.
    attachment: Attachment | None = None
    reply_to_key: str | None = None  # the outbox key of a sent message this one answers (a thread)
    # A picture drawn for this message (PNG, base64), which has no Telegram file id yet (the
    # Monday digest's dashboard); the text becomes its caption. The retention purge empties it
    # with the rest of the payload.
    picture: str | None = None
    # Delivered without a sound: a notice the staff group reads when it looks (feedback), so the
    # alerts that need someone now (new tickets) are the ones that ring.
    silent: bool = False

    def __post_init__(self) -> None:
        has_text = self.template is not None or bool(self.text)
        if self.attachment is not None and not self.attachment.takes_caption and has_text:
            raise ValueError(f"a {self.attachment.kind} has no caption: send its text as a message of its own")

    @classmethod
    def with_picture(cls, png: bytes, text: str) -> "MessageSpec":
        return cls(text=text, picture=base64.b64encode(png).decode("ascii"))

    def picture_png(self) -> bytes | None:
        return base64.b64decode(self.picture) if self.picture else None

    def to_payload(self) -> dict[str, Any]:
        payload = asdict(self)
        payload["buttons"] = [[asdict(b) for b in row] for row in self.buttons]
        for optional in ("attachment", "reply_to_key", "picture"):  # most messages have none of them
            if payload[optional] is None:
                del payload[optional]
        if not payload["silent"]:
            del payload["silent"]
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> "MessageSpec":
        buttons = tuple(tuple(Button(**b) for b in row) for row in payload.get("buttons") or ())
        return cls(payload.get("template"), dict(payload.get("params") or {}), payload.get("text"), buttons,
                   _attachment_of(payload), payload.get("reply_to_key"), payload.get("picture"),
                   bool(payload.get("silent")))


def _attachment_of(payload: dict[str, Any]) -> Attachment | None:
    """The payload's attachment; rows queued before attachments had kinds name a photo or a
    file under keys of their own ("photo", "document")."""
    if payload.get("attachment"):
        return Attachment(**payload["attachment"])
    for kind in (DOCUMENT, PHOTO):  # a file went before a photo then too
        if payload.get(kind):
            return Attachment(kind, payload[kind])
    return None


def enqueue(
    session: Session, key: str, chat_id: int, message: MessageSpec, category: str, now: datetime,
    customer_id: int | None = None, not_before: datetime | None = None, priority: int = NORMAL,
) -> OutboxMessage:
    """Queue a message once per idempotency key; a repeated call returns the existing row."""
    existing = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).first()
    if existing is not None:
        return existing
    row = OutboxMessage(idempotency_key=key, chat_id=chat_id, customer_id=customer_id, category=category,
                        payload=message.to_payload(), not_before=not_before or now, created_at=now,
                        priority=priority)
    try:
        with session.begin_nested():  # a concurrent writer may have inserted the same key
            session.add(row)
    except IntegrityError:
        return session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).one()
    return row


def key_taken(session: Session, key: str) -> bool:
    """Whether a row (or a merged message, ``MERGED``) has this idempotency key."""
    return session.exec(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)).first() is not None


def waiting(session: Session, row_id: int) -> OutboxMessage | None:
    """The row, locked, if it still waits (no dispatcher has claimed it), so this transaction may
    change what it will send; None once it is claimed or sent, or while a dispatcher is claiming
    it right now (then the caller queues a row of its own)."""
    return session.exec(select(OutboxMessage)
                        .where(OutboxMessage.id == row_id, OutboxMessage.status == PENDING)
                        .with_for_update(skip_locked=True)
                        .execution_options(populate_existing=True)).first()


def withdraw(session: Session, key: str) -> bool:
    """Take back the message with idempotency ``key`` while it still waits: it will not be sent
    (its row goes, so nothing about it remains). False once a dispatcher has it, or it is sent."""
    row_id = session.exec(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)).first()
    row = waiting(session, row_id) if row_id is not None else None
    if row is None:
        return False
    session.delete(row)
    return True


def merge(session: Session, key: str, into: OutboxMessage, payload: dict[str, Any], now: datetime) -> bool:
    """The message with idempotency ``key`` goes out as part of the waiting row ``into`` (locked
    by ``waiting`` in this transaction), which now sends ``payload``. The key is kept by a row
    of status ``MERGED``, so a repeated call changes nothing (False)."""
    if key_taken(session, key):
        return False
    marker = OutboxMessage(idempotency_key=key, chat_id=into.chat_id, customer_id=into.customer_id,
                           category=into.category, payload={}, status=MERGED, not_before=now, created_at=now,
                           last_error=f"merged into {into.id}", priority=into.priority)
    try:
        with session.begin_nested():  # a concurrent writer may have taken the same key
            session.add(marker)
    except IntegrityError:
        return False
    into.payload = payload
    session.add(into)
    return True


def claim_due(session: Session, now: datetime, limit: int = 50) -> list[OutboxMessage]:
    """Mark up to ``limit`` due rows as being sent (leased until ``now + CLAIM_LEASE``) and
    return them, oldest first. Rows locked by another dispatcher's claim are skipped."""
    rows = list(session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.status == PENDING, OutboxMessage.not_before <= now)
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ))
    for row in rows:
        row.status, row.attempts, row.not_before = SENDING, row.attempts + 1, now + CLAIM_LEASE
        session.add(row)
    return rows


def claim_next_per_chat(session: Session, now: datetime, limit: int = 50,
                        skip_chats: Collection[int] = ()) -> list[OutboxMessage]:
    """Claim the next due row of up to ``limit`` chats (leased like ``claim_due``): first those
    that are not marketing (a ticket alert or "+42 Punkte" does not wait for a broadcast of
    thousands to finish), then the rest, each the most urgent and then the longest due first.

    One row per chat, and none of a chat that has a row being sent (here or by a replica): a
    chat's rows go out one after another, the most urgent (``priority``) first and rows of the
    same priority oldest first (a customer's relayed messages keep their order), so the
    dispatcher's next row for a full staff group is its most urgent one. The dispatcher keeps
    them about a second apart without holding a claimed row for longer than that, and a chat with many rows
    (a busy staff group) never fills a batch and holds up everyone else. ``skip_chats`` are
    chats the caller must not send to now (told to wait by a 429, or waiting for a retry of an
    earlier row, which keeps the order).

    On PostgreSQL the candidates are ranked without locks and then locked with
    FOR UPDATE SKIP LOCKED; the outer conditions are checked again on the locked row, so a row
    another dispatcher claimed in the meantime is never returned twice.
    """
    busy = select(OutboxMessage.chat_id).where(OutboxMessage.status == SENDING)
    later = case((OutboxMessage.category == MARKETING, 1), else_=0)
    candidates = (select(OutboxMessage.id.label("id"), OutboxMessage.not_before.label("not_before"),
                         later.label("later"),
                         OutboxMessage.priority.label("priority"),
                         func.row_number().over(partition_by=OutboxMessage.chat_id,
                                                order_by=(OutboxMessage.priority.desc(), OutboxMessage.id))
                         .label("place"))
                  .where(OutboxMessage.status == PENDING, OutboxMessage.not_before <= now,
                         OutboxMessage.chat_id.not_in(busy)))
    if skip_chats:
        candidates = candidates.where(OutboxMessage.chat_id.not_in(list(skip_chats)))
    ranked = candidates.subquery()
    heads = (select(ranked.c.id).where(ranked.c.place == 1)
             .order_by(ranked.c.later, ranked.c.priority.desc(), ranked.c.not_before, ranked.c.id).limit(limit))
    rows = list(session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(heads), OutboxMessage.status == PENDING, OutboxMessage.not_before <= now)
        .order_by(later, OutboxMessage.priority.desc(), OutboxMessage.not_before, OutboxMessage.id)
        .with_for_update(skip_locked=True)
    ))
    for row in rows:
        row.status, row.attempts, row.not_before = SENDING, row.attempts + 1, now + CLAIM_LEASE
        session.add(row)
    return rows


def renew_claims(session: Session, row_ids: Collection[int], now: datetime) -> set[int]:
    """Extend the lease of rows a live dispatcher still holds; return the ids it still holds
    (a row whose lease ran out and that another dispatcher took back is not among them)."""
    if not row_ids:
        return set()
    rows = session.exec(select(OutboxMessage).where(OutboxMessage.id.in_(list(row_ids)),
                                                    OutboxMessage.status == SENDING)
                        .with_for_update()).all()
    for row in rows:
        row.not_before = now + CLAIM_LEASE
        session.add(row)
    return {row.id for row in rows}


def release_claims(session: Session, row_ids: Collection[int], now: datetime) -> int:
    """Give claimed rows back unsent (a dispatcher that stops): pending again at once, and the
    attempt they were claimed for does not count."""
    if not row_ids:
        return 0
    rows = session.exec(select(OutboxMessage).where(OutboxMessage.id.in_(list(row_ids)),
                                                    OutboxMessage.status == SENDING)
                        .with_for_update()).all()
    for row in rows:
        row.status, row.not_before, row.attempts = PENDING, _place_of(row, now), max(row.attempts - 1, 0)
        session.add(row)
    return len(rows)


def _place_of(row: OutboxMessage, now: datetime) -> datetime:
    """A claimed row's ``not_before`` holds its lease; given back, it is due at once and keeps
    its place among the due rows (by when it was queued) instead of going to the back of a
    broadcast of thousands."""
    return min(row.created_at, now)


def mark_sent(session: Session, row_id: int, telegram_message_id: int | None, now: datetime) -> None:
    # One UPDATE, no load: the dispatcher records some 30 of these a second.
    session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                    .values(status=SENT, sent_at=now, telegram_message_id=telegram_message_id, last_error=None))


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 2 s, 4 s, 8 s ... capped at ten minutes."""
    return timedelta(seconds=min(2 ** attempts, 600))


def mark_retry(session: Session, row_id: int, error: str, now: datetime, delay: timedelta | None = None,
               *, counts: bool = True) -> str:
    """Schedule another attempt, or give up after MAX_ATTEMPTS; return the new status.

    ``counts=False`` (Telegram said "too many requests, retry after N s"): the attempt is
    given back. Such a row was not refused, only told to wait, so a long broadcast that keeps
    meeting the flood limit never gives up on rows because of it."""
    row = session.get(OutboxMessage, row_id)
    row.last_error = error[:500]
    if not counts:
        row.attempts = max(row.attempts - 1, 0)
    if counts and row.attempts >= MAX_ATTEMPTS:
        row.status = FAILED
    else:
        row.status, row.not_before = PENDING, now + (delay if delay is not None else retry_delay(row.attempts))
    session.add(row)
    return row.status


def mark_failed(session: Session, row_id: int, error: str) -> None:
    row = session.get(OutboxMessage, row_id)
    row.status, row.last_error = FAILED, error[:500]
    session.add(row)


def skip_if_unreachable(session: Session, row_id: int) -> bool:
    """A row for a customer's chat that Telegram told us is blocked or gone is not sent: it is
    skipped with the reason (until the customer unblocks the bot). True if it was skipped."""
    row = session.get(OutboxMessage, row_id)
    account = session.exec(select(TelegramAccount).where(TelegramAccount.chat_id == row.chat_id)).first()
    if account is None or account.unreachable_since is None:
        return False
    row.status, row.last_error = SKIPPED, UNREACHABLE
    session.add(row)
    return True


def was_unreachable(row: OutboxMessage) -> bool:
    """The row ended undelivered because its recipient blocked the bot or is gone."""
    return row.status in (SKIPPED, FAILED) and (row.last_error or "").startswith(UNREACHABLE)


def release_expired_claims(session: Session, now: datetime, keep: Collection[int] = ()) -> int:
    """Rows whose dispatcher died mid-send go back to pending once their lease ran out (each is
    sent at most once more); rows a live dispatcher is sending are left alone, and so are the
    caller's own rows (``keep``), whatever their lease says."""
    query = select(OutboxMessage).where(OutboxMessage.status == SENDING, OutboxMessage.not_before <= now)
    if keep:
        query = query.where(OutboxMessage.id.not_in(list(keep)))
    rows = list(session.exec(query.with_for_update(skip_locked=True)))
    for row in rows:
        row.status, row.not_before = PENDING, _place_of(row, now)
        session.add(row)
    return len(rows)


def sent_message_id(session: Session, key: str) -> int | None:
    """The Telegram message id of the row with this key, once it was sent."""
    return session.exec(select(OutboxMessage.telegram_message_id).where(OutboxMessage.idempotency_key == key)).first()


def key_of_sent_message(session: Session, chat_id: int, message_id: int) -> str | None:
    """Which row became this message (to see what a staff member replied to)."""
    return session.exec(select(OutboxMessage.idempotency_key).where(
        OutboxMessage.chat_id == chat_id, OutboxMessage.telegram_message_id == message_id)).first()


def next_due_time(session: Session) -> datetime | None:
    return session.exec(
        select(OutboxMessage.not_before).where(OutboxMessage.status == PENDING)
        .order_by(OutboxMessage.not_before).limit(1)
    ).first()


# --- what features add to the sending of their rows ---------------------------------------------

Personalize = Callable[[Session, OutboxMessage, Any, dict, str, datetime], dict]
Undelivered = Callable[[Session, OutboxMessage, Any, datetime], "str | None"]


@dataclass(frozen=True)
class Feature:
    """What a feature adds to the sending of the rows it owns: those whose idempotency key starts
    with ``key_prefix``. Every hook is optional and gets the feature's rules (``rules_from(config)``,
    made once per dispatcher; None without ``rules_from``):

    - ``personalize(session, row, rules, params, language, now) -> params``: the message's
      parameters completed at send time, in the recipient's language;
    - ``undelivered(session, row, rules, now) -> note | None``: what follows when the row ends
      undelivered (skipped, or failed for good; ``row`` is as just recorded), in the transaction
      that records it, so a crash cannot leave the one without the other. The note says what it
      did (for the log); None when it did nothing.
    """

    name: str
    key_prefix: str
    rules_from: Callable[[ShopConfig], Any] | None = None
    personalize: Personalize | None = None
    undelivered: Undelivered | None = None


_REGISTERED: dict[str, Feature] = {}


def register(feature: Feature) -> Feature:
    """Add a feature's hooks (a module reloaded replaces its own, by name)."""
    _REGISTERED[feature.name] = feature
    return feature


def registered() -> tuple[Feature, ...]:
    return tuple(_REGISTERED.values())


class Hooks:
    """The features' hooks with their rules from one config (all registered ones unless
    ``features`` says which), as the dispatcher calls them. A row no feature owns is sent as
    queued, and its outcome is recorded alone."""

    def __init__(self, config: ShopConfig, features: Iterable[Feature] | None = None):
        chosen = registered() if features is None else tuple(features)
        self._features = tuple((feature, feature.rules_from(config) if feature.rules_from else None)
                               for feature in chosen)

    def _owner(self, row: OutboxMessage) -> tuple[Feature | None, Any]:
        for feature, rules in self._features:
            if row.idempotency_key.startswith(feature.key_prefix):
                return feature, rules
        return None, None

    def personalizes(self, row: OutboxMessage) -> bool:
        """Whether the row's parameters are completed at send time (``personalize``); other rows
        need no database work for it."""
        feature, _ = self._owner(row)
        return feature is not None and feature.personalize is not None

    def personalize(self, session: Session, row: OutboxMessage, params: dict, language: str, now: datetime) -> dict:
        """The row's message parameters as sent: completed by the feature that owns it."""
        feature, rules = self._owner(row)
        if feature is None or feature.personalize is None:
            return params
        return feature.personalize(session, row, rules, params, language, now)

    def record_outcome(self, session: Session, row: OutboxMessage, now: datetime,
                       outcome: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
        """Record an outcome on the row (``outcome(session, *args)``, e.g. ``mark_failed``); if the
        row thereby ended undelivered, its feature's ``undelivered`` hook follows in the same
        transaction. Returns the outcome's result and the hook's note (None: nothing done)."""
        result = outcome(session, *args)
        feature, rules = self._owner(row)
        if feature is None or feature.undelivered is None:
            return result, None
        recorded = session.get(OutboxMessage, row.id)
        if recorded is None or recorded.status not in (SKIPPED, FAILED):
            return result, None
        return result, feature.undelivered(session, recorded, rules, now)
