"""The team: where the staff group is now, and what staff may not do for themselves.

The staff group's id changes once in its life, when Telegram turns the group into a supergroup.
The new id is stored (table ``staff_chat``) and used from then on, also after a restart, as long
as the configured id is the group it came from; messages still waiting for the old id go to the
new one, and the owners are told.

Nobody has to look the id up: when the bot is added to a group, the owners are offered to make
it the staff group (``offer_staff_chat``); the chosen group is stored in the same row
(``choose_staff_chat``) and wins over config.yml, though not over STAMMGAST_STAFF_CHAT_ID.

Staff who book points, goodwill or a reward for their own customer account (the one linked to
their Telegram user id) could help themselves unseen, so that is refused (``SelfService``) and
the owners hear of the attempt (``report_self_service``).

The members of the staff group the bot has seen as staff are kept (``staff_member``), so the
shop's figures can tell the team from its customers (``domain.segments``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlmodel import Session

from domain import outbox
from domain.outbox import MessageSpec
from domain.rules.errors import Refusal
from storage.models import Customer, OutboxMessage, StaffChat, StaffMember, TelegramAccount
from storage.sql import insert_new

PURCHASE, GOODWILL, REDEMPTION = "purchase", "goodwill", "redemption"
STAFF_CHAT_BUTTON = "setup:group:"  # + the group's id: "make this the staff group"


# --- the staff group's id ---------------------------------------------------------------------

def effective_staff_chat(configured: int | None, stored: StaffChat | None,
                         configured_in_environment: bool = False) -> int | None:
    """The staff group to use: the one an owner chose in the chat (unless the environment names
    one: STAMMGAST_STAFF_CHAT_ID wins), else the stored one when the configured group became it."""
    if stored is not None and stored.chosen and not configured_in_environment:
        return stored.chat_id
    if stored is not None and configured is not None and configured in (stored.migrated_from, stored.chat_id):
        return stored.chat_id
    return configured


def current_staff_chat(session: Session, configured: int | None, configured_in_environment: bool = False) -> int | None:
    return effective_staff_chat(configured, session.get(StaffChat, 1), configured_in_environment)


def chosen_in_chat(session: Session) -> int | None:
    """The staff group an owner chose with the button (``doctor`` names where the group came from)."""
    stored = session.get(StaffChat, 1)
    return stored.chat_id if stored is not None and stored.chosen else None


def offer_staff_chat(session: Session, chat_id: int, title: str, owner_ids: tuple[int, ...], now: datetime) -> None:
    """The bot was added to a group: each owner is asked whether it is the staff group (a button)."""
    offer = MessageSpec("setup.group_added", {"title": title},
                        buttons=((outbox.Button("setup.make_staff_group", f"{STAFF_CHAT_BUTTON}{chat_id}"),),))
    for owner in owner_ids:
        outbox.enqueue(session, f"setup:group_added:{chat_id}:{owner}:{now.isoformat()}", owner, offer,
                       outbox.STAFF, now)


def choose_staff_chat(session: Session, chat_id: int, now: datetime) -> None:
    """An owner made ``chat_id`` the staff group: stored (it wins over config.yml from now on,
    also after a restart), and the group is greeted."""
    row = session.get(StaffChat, 1) or StaffChat(id=1, chat_id=chat_id, changed_at=now)
    row.chat_id, row.migrated_from, row.changed_at, row.chosen = chat_id, None, now, True
    session.add(row)
    outbox.enqueue(session, f"setup:staff_group_hello:{chat_id}:{now.isoformat()}", chat_id,
                   MessageSpec("setup.staff_group_hello"), outbox.STAFF, now)


def follow_chat_migration(session: Session, old_chat_id: int, new_chat_id: int, staff_chat_id: int | None,
                          owner_ids: tuple[int, ...], now: datetime) -> bool:
    """A group became a supergroup (``old_chat_id`` -> ``new_chat_id``): messages still waiting
    for it go to the new id. When it is the staff group (``staff_chat_id``, the id in use), the
    new id is stored and the owners are told; returns whether the staff group moved."""
    session.execute(update(OutboxMessage)
                    .where(OutboxMessage.chat_id == old_chat_id, OutboxMessage.status.in_(("pending", "sending")))
                    .values(chat_id=new_chat_id))
    if staff_chat_id != old_chat_id:
        return False
    row = session.get(StaffChat, 1) or StaffChat(id=1, chat_id=new_chat_id, changed_at=now)
    row.chat_id, row.migrated_from, row.changed_at = new_chat_id, old_chat_id, now
    session.add(row)
    for owner in owner_ids:
        outbox.enqueue(session, f"staff_chat:migrated:{new_chat_id}:{owner}", owner,
                       MessageSpec("team.staff_chat_moved", {"old": str(old_chat_id), "new": str(new_chat_id)}),
                       outbox.STAFF, now)
    return True


# --- who is on the team -----------------------------------------------------------------------

def remember_staff_member(session: Session, telegram_user_id: int, now: datetime) -> None:
    """A member of the staff group (once; two processes at once write it once)."""
    insert_new(session, StaffMember.__table__, [{"telegram_user_id": telegram_user_id, "seen_at": now}],
               ["telegram_user_id"])


def forget_staff_member(session: Session, telegram_user_id: int) -> None:
    """They left the staff group, were removed or restricted: a customer like anyone again."""
    session.execute(delete(StaffMember).where(StaffMember.telegram_user_id == telegram_user_id))


def staff_member_ids(session: Session) -> list[int]:
    return list(session.execute(select(StaffMember.telegram_user_id).order_by(StaffMember.telegram_user_id)).scalars())


# --- staff and their own customer account -----------------------------------------------------

class SelfService(Refusal):
    """A staff member tried to book for their own customer account; ``details`` say what, so
    the booking can be held for a colleague's confirmation (``domain.self_booking``)."""

    def __init__(self, what: str, customer_id: int, details: dict | None = None):
        super().__init__("self_service", what=what)
        self.what = what
        self.customer_id = customer_id
        self.details = dict(details or {})


_APPROVED = "self_service_approved"  # session.info: customer ids a colleague confirmed a booking for


def refuse_self_service(session: Session, what: str, customer_id: int, staff_user_id: int, **details) -> None:
    """Raise ``SelfService`` when ``customer_id`` is the account of Telegram user ``staff_user_id``
    - unless another member of the team confirmed this booking in this transaction (``approve``)."""
    if customer_id in session.info.get(_APPROVED, ()):
        return
    account = session.get(TelegramAccount, staff_user_id)
    if account is not None and account.customer_id == customer_id:
        raise SelfService(what, customer_id, details)


def approve(session: Session, customer_id: int) -> None:
    """A colleague confirmed a held self-booking: the booking replayed in this transaction passes."""
    session.info.setdefault(_APPROVED, set()).add(customer_id)


def report_self_service(session: Session, what: str, customer_id: int, staff_user_id: int, staff_name: str,
                        detail: str, ref: str, owner_ids: tuple[int, ...], now: datetime) -> None:
    """Tell the owners that a staff member tried to book for themselves (refused). The staff
    member's own id is skipped: an owner who tries it is not told about themselves."""
    customer = session.get(Customer, customer_id)
    message = MessageSpec(f"team.self_service_refused.{what}", {
        "staff": staff_name, "detail": detail, "code": (customer.code if customer else None) or "–"})
    for owner in owner_ids:
        if owner != staff_user_id:
            outbox.enqueue(session, f"self_service:{ref}:{owner}", owner, message, outbox.STAFF, now)
