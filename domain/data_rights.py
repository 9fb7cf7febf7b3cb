"""Customers' rights to their data (DSGVO Art. 15 and 17): everything stored about a customer
as plain values (the export), and erasing it (the shop's figures stay, anonymised).

The export is built from the data model itself: every table with a foreign key to
``customer.id`` (``owned_tables``), the rows that hang off those rows (a ticket's events), and
the rows they point to (the exact consent wording). A table added later is exported without
anyone remembering to; ``NOT_EXPORTED`` names, with a reason, the links left out on
purpose (other people, the shop's own campaigns), and a test checks that every link is one or
the other.

Erasure keeps the customer row and every purchase, points entry, redemption, coupon and survey
score on it, so every figure the shop keeps (revenue, revenue groups, NPS, the kept segment
figures) is unchanged; what identifies the person is removed from that row (names, phone,
birthday, the customer code, the shop's customer number), their Telegram account is deleted,
and what they wrote or what was written about them goes (the message log, tickets with their
events, feedback, survey reasons, the payloads of the messages to and about them, whose pending
ones are skipped). The row then links to no person. A new /start of the same Telegram user
makes a new customer.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Table, and_, delete, func, or_, select, update
from sqlmodel import Session, SQLModel

from domain import conversation, customers, ledger, outbox, rewards
from domain.rules import codes
from domain.rules.errors import Refusal
from storage.models import (ConversationState, CounterPrompt, Coupon, Customer, DataRequest, Feedback, HeldBooking,
                            MessageLog, OutboxMessage, PointsEntry, Redemption, Survey, TelegramAccount, Ticket, TicketEvent)

CUSTOMER_TABLE = "customer"
# The most rows of one table in an export (newest first). Far above what a customer of a small
# shop collects, and it keeps the documents well below Telegram's 50 MB for files.
MAX_ROWS_PER_TABLE = 20_000

# Links to a customer that an export leaves out, with the reason (a test checks that every
# foreign key to a customer or to an exported table is exported or named here).
NOT_EXPORTED = {
    ("customer", "referred_by_id"): "the customers they invited, and who invited them, are other people",
    ("outbox_message", "campaign_id"): "the shop's campaign; the message they got is in outbox_message",
    ("coupon", "campaign_id"): "the shop's campaign; the coupon itself is exported",
}

EXPORT, ERASURE = "export", "erasure"
ERASE_STEP = "confirm_erasure"
SKIPPED_REASON = "erased"  # last_error of the pending messages cancelled by an erasure


class RightsRefusal(Refusal):
    """``reason``: invalid_code, unknown_code, already_done."""


# --- the export ------------------------------------------------------------------------------

def _customer_keys(table: Table) -> list[Column]:
    return [fk.parent for fk in table.foreign_keys if fk.column.table.name == CUSTOMER_TABLE]


def owned_tables(metadata=SQLModel.metadata) -> list[tuple[Table, Column]]:
    """Every table whose rows belong to a customer: (table, its column naming the customer)."""
    owned = []
    for table in metadata.sorted_tables:
        if table.name == CUSTOMER_TABLE:
            continue
        owned.extend((table, column) for column in _customer_keys(table)
                     if (table.name, column.name) not in NOT_EXPORTED)
    return owned


def child_tables(metadata=SQLModel.metadata) -> list[tuple[Table, Column, Table]]:
    """Tables without a customer column whose rows hang off an owned table's rows (a ticket's
    events): (table, its column, the owned table it points to)."""
    owned = {table.name for table, _ in owned_tables(metadata)}
    children = []
    for table in metadata.sorted_tables:
        if table.name in owned or table.name == CUSTOMER_TABLE:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name in owned and (table.name, fk.parent.name) not in NOT_EXPORTED:
                children.append((table, fk.parent, fk.column.table))
    return children


def plain(value: Any) -> Any:
    """A column value as JSON has it."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _rows(session: Session, table: Table, condition) -> tuple[list[dict[str, Any]], int]:
    order = [column.desc() for column in table.primary_key.columns]
    found = session.execute(select(table).where(condition).order_by(*order).limit(MAX_ROWS_PER_TABLE + 1)).all()
    rows = [{key: plain(value) for key, value in row._mapping.items()} for row in found[:MAX_ROWS_PER_TABLE]]
    rows.reverse()  # oldest first
    left_out = 0
    if len(found) > MAX_ROWS_PER_TABLE:
        left_out = session.execute(select(func.count()).select_from(table).where(condition)).scalar() - len(rows)
    return rows, left_out


@dataclass(frozen=True)
class Export:
    """Everything stored about one customer, as plain values: ``tables`` by table name (the
    customer's own row under "customer"), rows oldest first; ``truncated``: rows left out per
    table (only beyond MAX_ROWS_PER_TABLE)."""

    customer_id: int
    exported_at: datetime
    language: str | None
    tables: dict[str, list[dict[str, Any]]]
    truncated: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "exported_at": self.exported_at.isoformat(),
                "tables": self.tables, "truncated": self.truncated}


def collect(session: Session, customer_id: int, now: datetime) -> Export:
    """Read everything stored about the customer (no changes)."""
    metadata = SQLModel.metadata
    customer_table = metadata.tables[CUSTOMER_TABLE]
    tables: dict[str, list[dict[str, Any]]] = {}
    truncated: dict[str, int] = {}
    tables[CUSTOMER_TABLE], _ = _rows(session, customer_table, customer_table.c.id == customer_id)
    for table, column in owned_tables(metadata):
        rows, left_out = _rows(session, table, column == customer_id)
        tables.setdefault(table.name, []).extend(rows)
        if left_out:
            truncated[table.name] = truncated.get(table.name, 0) + left_out
    for table, column, parent in child_tables(metadata):
        parent_key = next(iter(fk.column for fk in column.foreign_keys))
        ids = [row[parent_key.name] for row in tables.get(parent.name, [])]
        rows, left_out = _rows(session, table, column.in_(ids)) if ids else ([], 0)
        tables.setdefault(table.name, []).extend(rows)
        if left_out:
            truncated[table.name] = left_out
    _add_referenced(session, metadata, tables)
    customer = session.get(Customer, customer_id)
    return Export(customer_id, now, customer.language if customer else None, tables, truncated)


def _add_referenced(session: Session, metadata, tables: dict[str, list[dict[str, Any]]]) -> None:
    """The rows the exported rows point to in tables that are not theirs, such as the exact
    wording of a consent question (consent_wording)."""
    for name in list(tables):
        table = metadata.tables[name]
        for fk in table.foreign_keys:
            target = fk.column.table
            if target.name in tables or target.name == CUSTOMER_TABLE or (name, fk.parent.name) in NOT_EXPORTED:
                continue
            keys = sorted({row[fk.parent.name] for row in tables[name] if row.get(fk.parent.name) is not None})
            if keys:
                tables[target.name] = _rows(session, target, fk.column.in_(keys))[0]


def export_my_data(session: Session, customer_id: int, now: datetime, executed_by: int | None = None) -> Export:
    """/meinedaten (and /kunde_export for an owner): everything about the customer; the export
    itself is recorded (without anything personal)."""
    session.add(DataRequest(customer_id=customer_id, kind=EXPORT, executed_by=executed_by, at=now))
    session.flush()  # this request is part of what they get to see
    return collect(session, customer_id, now)


def find_customer(session: Session, typed_code: str) -> int:
    """The customer behind a customer code an owner typed (a request by mail or at the counter)."""
    code = codes.normalize(typed_code or "", codes.CUSTOMER_CODE_LENGTH)
    if code is None:
        raise RightsRefusal("invalid_code", typed_code)
    customer_id = session.execute(select(Customer.id).where(Customer.code == code,
                                                            Customer.erased_at.is_(None))).scalar()
    if customer_id is None:
        raise RightsRefusal("unknown_code", code)
    return customer_id


def export_for_owner(session: Session, typed_code: str, owner_user_id: int, now: datetime) -> Export:
    """/kunde_export CODE: a request that reached the shop by mail or at the counter."""
    return export_my_data(session, find_customer(session, typed_code), now, executed_by=owner_user_id)


# --- erasure ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class WhatIsLost:
    """What an erasure takes away, for the confirmation question."""

    customer_id: int
    balance: int
    open_rewards: int
    open_coupons: int
    open_tickets: int


def what_is_lost(session: Session, customer_id: int, now: datetime) -> WhatIsLost:
    open_coupons = session.execute(select(Coupon.id).where(
        Coupon.customer_id == customer_id, Coupon.redeemed_at.is_(None), Coupon.expires_at > now)).all()
    open_tickets = session.execute(select(Ticket.id).where(Ticket.customer_id == customer_id,
                                                           Ticket.status == "open")).all()
    return WhatIsLost(customer_id, ledger.current_balance(session, customer_id, now),
                      len(rewards.open_redemptions(session, customer_id, now)), len(open_coupons), len(open_tickets))


def ask_to_erase(session: Session, asker_id: int, target_id: int, nonce: str, now: datetime) -> WhatIsLost:
    """The erasure of ``target_id`` (the asker themselves, or a customer an owner named) waits
    for the asker's confirmation under ``nonce``: a forged, old or second press does nothing."""
    conversation.set_step(session, asker_id, ERASE_STEP, now, {"target": target_id, "nonce": nonce})
    return what_is_lost(session, target_id, now)


def ask_to_erase_my_data(session: Session, customer_id: int, nonce: str, now: datetime) -> WhatIsLost:
    """/loeschen and the delete_data intent."""
    return ask_to_erase(session, customer_id, customer_id, nonce, now)


def ask_to_erase_for_owner(session: Session, owner_customer_id: int, typed_code: str, nonce: str,
                           now: datetime) -> WhatIsLost:
    """/kunde_loeschen CODE: the confirmation goes to the owner who asked, and only to them."""
    return ask_to_erase(session, owner_customer_id, find_customer(session, typed_code), nonce, now)


@dataclass(frozen=True)
class Erased:
    customer_id: int
    language: str  # the customer's language, for the last message to them
    code: str | None  # the customer code they had, for the owner's confirmation


def confirm_erasure(session: Session, asker_id: int, nonce: str, now: datetime, executed_by: int | None = None,
                    shop_language: str = "de") -> Erased:
    """The confirm button: erase the customer the open question named. ``already_done`` for a
    second press, an old question or forged data."""
    step = conversation.current_step(session, asker_id, now)
    if step is None or step.name != ERASE_STEP or step.data.get("nonce") != nonce:
        raise RightsRefusal("already_done")
    conversation.clear_step(session, asker_id)
    target = int(step.data["target"])
    customer = session.get(Customer, target)
    if customer is None or customer.erased_at is not None:
        raise RightsRefusal("already_done")
    erased = Erased(target, customers.preferred_language(session, target, shop_language), customer.code)
    erase_customer(session, target, now, executed_by=executed_by)
    return erased


def confirm_my_erasure(session: Session, telegram_user_id: int, telegram_language: str | None, shop_language: str,
                       nonce: str, now: datetime) -> Erased:
    """The customer's own confirm button. The presser is looked up, not registered: a press
    after the erasure (an old button, a double tap) makes no new customer."""
    account = customers.find_account(session, telegram_user_id)
    if account is None:
        raise RightsRefusal("already_done")
    return confirm_erasure(session, account.customer_id, nonce, now, shop_language=shop_language)


def cancel_my_erasure(session: Session, telegram_user_id: int, telegram_language: str | None, shop_language: str,
                      now: datetime) -> tuple[str, bool]:
    """"Nein, behalten": nothing changes. Returns the language to answer in, and whether there
    was a question to cancel (not after a double tap, an old or a forged button)."""
    account = customers.find_account(session, telegram_user_id)
    if account is None:
        return customers.language_of_code(telegram_language, shop_language), False
    cancelled = cancel_erasure(session, account.customer_id, now)
    return customers.preferred_language(session, account.customer_id, shop_language), cancelled


def cancel_erasure(session: Session, asker_id: int, now: datetime) -> bool:
    return conversation.take_step(session, asker_id, ERASE_STEP, now) is not None


def erase_customer(session: Session, customer_id: int, now: datetime, executed_by: int | None = None) -> bool:
    """Erase every personal datum of a customer in this one transaction; the shop's figures
    stay on the anonymised row. False when the customer is already erased (nothing changes).

    ``executed_by``: None for the customer themselves, an owner's Telegram user id, or 0 for
    the retention job (inactive customers)."""
    ledger.lock(session, customer_id)  # a purchase or redemption running now waits for this
    customer = session.get(Customer, customer_id)
    if customer.erased_at is not None:
        return False
    accounts = session.execute(select(TelegramAccount).where(TelegramAccount.customer_id == customer_id)).scalars().all()
    chats = [account.chat_id for account in accounts]
    tickets = list(session.execute(select(Ticket.id).where(Ticket.customer_id == customer_id)).scalars())

    # The messages to and about them (staff alerts, relayed texts, the owners' escalations).
    about_them = [OutboxMessage.customer_id == customer_id]
    about_them += [OutboxMessage.idempotency_key.like(f"ticket:{ticket}:%") for ticket in tickets]
    # the news of the referral bonus to the friend who invited them names them
    about_them.append(OutboxMessage.idempotency_key.like(f"referral:{customer_id}:%"))
    if chats:
        about_them.append(OutboxMessage.chat_id.in_(chats))
    session.execute(update(OutboxMessage).where(or_(*about_them), OutboxMessage.status == outbox.PENDING)
                    .values(status=outbox.SKIPPED, last_error=SKIPPED_REASON).execution_options(synchronize_session=False))
    session.execute(update(OutboxMessage).where(or_(*about_them)).values(payload={})
                    .execution_options(synchronize_session=False))
    for chat in chats:  # their chat id, also inside keys that name their messages ("feedback:<chat>:<message>")
        session.execute(update(OutboxMessage).where(or_(*about_them)).values(
            idempotency_key=func.replace(OutboxMessage.idempotency_key, str(chat), f"erased{customer_id}"))
            .execution_options(synchronize_session=False))
    if chats:
        session.execute(update(OutboxMessage).where(OutboxMessage.chat_id.in_(chats)).values(chat_id=0)
                        .execution_options(synchronize_session=False))

    # What they wrote, and what was written about them.
    log_rows = [MessageLog.customer_id == customer_id] + ([MessageLog.chat_id.in_(chats)] if chats else [])
    session.execute(delete(MessageLog).where(or_(*log_rows)))
    if tickets:
        session.execute(delete(TicketEvent).where(TicketEvent.ticket_id.in_(tickets)))
        session.execute(delete(Ticket).where(Ticket.id.in_(tickets)))
    session.execute(delete(Feedback).where(Feedback.customer_id == customer_id))
    session.execute(update(Survey).where(Survey.customer_id == customer_id).values(reason=None))
    session.execute(delete(ConversationState).where(ConversationState.customer_id == customer_id))
    # The inviting friend keeps the bonus; its ledger note no longer names them.
    session.execute(update(PointsEntry).where(PointsEntry.idempotency_key == f"referral:{customer_id}:referrer")
                    .values(note=None))
    # A staff member's own bookings held for a colleague (their name, what they asked for).
    session.execute(delete(HeldBooking).where(HeldBooking.customer_id == customer_id))
    session.execute(delete(CounterPrompt).where(CounterPrompt.customer_id == customer_id))  # a scan's "Betrag?"

    # Their reward codes and coupons can no longer be used (they stay for the figures).
    session.execute(update(Redemption).where(
        Redemption.customer_id == customer_id, Redemption.used_at.is_(None),
        Redemption.expires_at > now).values(expires_at=now))
    session.execute(update(Coupon).where(Coupon.customer_id == customer_id, Coupon.redeemed_at.is_(None),
                                         Coupon.expires_at > now).values(expires_at=now))

    for account in accounts:
        session.delete(account)
    session.flush()
    session.refresh(customer)
    customer.first_name, customer.last_name = "", None
    customer.phone = customer.external_ref = customer.code = None
    customer.birthday_day = customer.birthday_month = customer.birthday_year = None
    customer.language = None
    customer.marketing_consent, customer.telegram_reachable = False, False
    customer.erased_at = now
    session.add(customer)
    session.add(DataRequest(customer_id=customer_id, kind=ERASURE, executed_by=executed_by, at=now))
    return True


RETENTION_JOB = 0  # DataRequest.executed_by of the erasures of inactive customers


def inactive_since(now: datetime, years: int) -> datetime:
    """The moment ``years`` years before ``now`` (29 February becomes the 28th)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def due_for_erasure(session: Session, now: datetime, inactive_years: int, limit: int = 500) -> list[int]:
    """The customers (ids, oldest activity first) without a purchase and without a message for
    ``inactive_years`` years (config ``privacy.inactive_years``), not yet erased. The
    retention job tells them first and erases them after its notice period, each with
    ``erase_customer(session, id, now, executed_by=RETENTION_JOB)`` in a transaction of its own."""
    return list(session.execute(
        select(Customer.id).where(inactive_before(inactive_since(now, inactive_years)))
        .order_by(Customer.last_seen_at, Customer.id).limit(limit)
    ).scalars())


def inactive_before(cutoff: datetime):
    """The condition: not erased, and neither a message nor a purchase since ``cutoff``."""
    return and_(Customer.erased_at.is_(None), Customer.created_at < cutoff, Customer.last_seen_at < cutoff,
                or_(Customer.last_purchase_at.is_(None), Customer.last_purchase_at < cutoff))
