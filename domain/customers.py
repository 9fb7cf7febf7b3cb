"""Customers and their Telegram identity: registration, language, reachability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func
from sqlmodel import Session, select

from domain import conversation
from domain.languages import LANGUAGES
from domain.rules import codes
from domain.rules.errors import Refusal
from domain.rules.names import clean_name
from storage.models import Customer, TelegramAccount

# "Last seen" serves win-back and reports, where minutes do not matter; not refreshing it on
# every message keeps a chatting customer's updates read-only.
LAST_SEEN_RESOLUTION = timedelta(minutes=10)
NAME_LIMIT = 128  # Customer.first_name / last_name
USERNAME_LIMIT = 64  # TelegramAccount.username


# A Telegram user's account and customer (parameter ``user_id``). Every message, command and
# button press of a regular looks them up: one query, built once (building it costs more
# Python than running it); ``domain.turns`` adds the conversation's state to it.
ACCOUNT_AND_CUSTOMER = (select(TelegramAccount, Customer).join(Customer, Customer.id == TelegramAccount.customer_id)
                        .where(TelegramAccount.telegram_user_id == bindparam("user_id")))


@dataclass(frozen=True)
class TelegramProfile:
    """Who wrote to the bot, as far as the business cares (no Telegram types here)."""

    user_id: int
    chat_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True)
class Registration:
    customer: Customer
    account: TelegramAccount
    is_new: bool


def find_account(session: Session, telegram_user_id: int) -> TelegramAccount | None:
    return session.get(TelegramAccount, telegram_user_id)


def register(session: Session, profile: TelegramProfile, now: datetime) -> Registration:
    """Find the customer behind a Telegram user, or create one; refresh the profile data.

    Idempotent: a second /start (or a redelivered update) never creates a second customer.
    """
    account = find_account(session, profile.user_id)
    if account is not None:
        customer = session.get(Customer, account.customer_id)
        for name, value in _account_fields(profile).items():
            setattr(account, name, value)
        customer.telegram_reachable = True
        if _last_seen_is_stale(customer, now):
            customer.last_seen_at = now
        session.add_all([account, customer])  # written only if something changed
        return Registration(customer, account, is_new=False)
    customer = Customer(
        code=unused_customer_code(session),
        first_name=_clean_name(profile.first_name) or "Kunde",
        last_name=_clean_name(profile.last_name),
        created_at=now,
        last_seen_at=now,
        telegram_reachable=True,  # the account below
    )
    session.add(customer)
    session.flush()
    account = TelegramAccount(
        telegram_user_id=profile.user_id,
        customer_id=customer.id,
        chat_id=profile.chat_id,
        username=clean_name(profile.username, USERNAME_LIMIT),
        language_code=profile.language_code,
    )
    session.add(account)
    session.flush()
    return Registration(customer, account, is_new=True)


def known(session: Session, profile: TelegramProfile, now: datetime) -> Registration | None:
    """The registration of a customer whose stored data ``register`` would leave as it is; None
    when it would write (a new customer, a changed profile, a stale "last seen"). Only reads,
    so a chatting regular's message needs no write lock to find out who wrote."""
    row = session.exec(ACCOUNT_AND_CUSTOMER, params={"user_id": profile.user_id}).first()
    return unchanged_registration(*row, profile, now) if row is not None else None


def unchanged_registration(account: TelegramAccount, customer: Customer, profile: TelegramProfile,
                           now: datetime) -> Registration | None:
    """``known`` for an account and its customer read already; None when ``register`` would write."""
    unchanged = all(getattr(account, name) == value for name, value in _account_fields(profile).items())
    if not unchanged or not customer.telegram_reachable or _last_seen_is_stale(customer, now):
        return None
    return Registration(customer, account, is_new=False)


def _account_fields(profile: TelegramProfile) -> dict[str, object]:
    """What a message tells about the account: where to write back, the names, and that it can be
    reached (they wrote to us)."""
    return {"chat_id": profile.chat_id, "username": clean_name(profile.username, USERNAME_LIMIT),
            "language_code": profile.language_code, "unreachable_since": None}


def _last_seen_is_stale(customer: Customer, now: datetime) -> bool:
    return now - customer.last_seen_at >= LAST_SEEN_RESOLUTION


def unused_customer_code(session: Session) -> str:
    while True:  # a collision is a one-in-a-billion event; just draw again
        code = codes.new_code(codes.CUSTOMER_CODE_LENGTH)
        if session.exec(select(Customer.id).where(Customer.code == code)).first() is None:
            return code


def get(session: Session, customer_id: int) -> Customer:
    return session.get(Customer, customer_id)


def set_birthday(session: Session, customer_id: int, day: int, month: int, year: int | None) -> None:
    customer = session.get(Customer, customer_id)
    customer.birthday_day, customer.birthday_month, customer.birthday_year = day, month, year
    session.add(customer)


def find_by_code(session: Session, code: str) -> Customer | None:
    return session.exec(select(Customer).where(Customer.code == code)).first()


def find_by_username(session: Session, username: str) -> Customer | None:
    account = session.exec(
        select(TelegramAccount).where(func.lower(TelegramAccount.username) == username.lower().lstrip("@"))
    ).first()
    return session.get(Customer, account.customer_id) if account else None


def chat_of(session: Session, customer_id: int) -> TelegramAccount | None:
    """The customer's Telegram account, if they have one and it can be reached."""
    account = session.exec(select(TelegramAccount).where(TelegramAccount.customer_id == customer_id)).first()
    return account if account is not None and account.unreachable_since is None else None


def _clean_name(name: str | None) -> str | None:
    return clean_name(name, NAME_LIMIT)


def language_of(customer: Customer, telegram_language_code: str | None, shop_language: str) -> str:
    """The customer's chosen language, else their app language if we speak it, else the shop's."""
    if customer.language in LANGUAGES:
        return customer.language
    return language_of_code(telegram_language_code, shop_language)


def language_of_code(telegram_language_code: str | None, shop_language: str) -> str:
    app_language = (telegram_language_code or "").split("-")[0].lower()
    if app_language in LANGUAGES:
        return app_language
    return shop_language if shop_language in LANGUAGES else "de"


def choose_language(session: Session, customer_id: int, language: str) -> Customer:
    """The customer's choice (/sprache): it stays, whatever language they write in."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    customer = session.get(Customer, customer_id)
    customer.language = language
    customer.language_chosen = True
    session.add(customer)
    return customer


def follow_written_language(session: Session, customer_id: int, language: str) -> bool:
    """A customer clearly wrote in ``language``: answer in it from now on, unless they chose
    a language with /sprache. True when the language changed."""
    customer = session.get(Customer, customer_id)
    if language not in LANGUAGES or customer is None or customer.language_chosen or customer.language == language:
        return False
    customer.language = language
    session.add(customer)
    return True


def mark_unreachable(session: Session, chat_id: int, now: datetime) -> bool:
    """Telegram says the bot was blocked or the chat is gone: stop sending to this chat."""
    account = session.exec(select(TelegramAccount).where(TelegramAccount.chat_id == chat_id)).first()
    if account is None or account.unreachable_since is not None:
        return False
    account.unreachable_since = now
    session.add(account)
    _set_reachable(session, account.customer_id, False)
    return True


def mark_reachable(session: Session, chat_id: int) -> None:
    account = session.exec(select(TelegramAccount).where(TelegramAccount.chat_id == chat_id)).first()
    if account is not None and account.unreachable_since is not None:
        account.unreachable_since = None
        session.add(account)
        _set_reachable(session, account.customer_id, True)


def _set_reachable(session: Session, customer_id: int, reachable: bool) -> None:
    """The customer row repeats whether the account can be reached (segment counts read it)."""
    customer = session.get(Customer, customer_id)
    customer.telegram_reachable = reachable
    session.add(customer)


def preferred_language(session: Session, customer_id: int, shop_language: str) -> str:
    customer = session.get(Customer, customer_id)
    account = session.exec(select(TelegramAccount).where(TelegramAccount.customer_id == customer_id)).first()
    return language_of(customer, account.language_code if account else None, shop_language)


# --- the birthday, as the customer tells it ---------------------------------------------------

BIRTHDAY_ASK_STEP = "awaiting_birthday"
BIRTHDAY_CONFIRM_STEP = "confirm_birthday"


def ask_birthday(session: Session, customer_id: int, now: datetime) -> Customer:
    """/geburtstag: the customer's next text is their birthday (the stored one is shown)."""
    conversation.set_step(session, customer_id, BIRTHDAY_ASK_STEP, now)
    return session.get(Customer, customer_id)


def propose_birthday(session: Session, customer_id: int, day: int, month: int, year: int | None, nonce: str,
                     now: datetime) -> None:
    """A date the customer typed waits for their confirmation; ``nonce`` ties it to the buttons
    of this question, so "yes" under an older one confirms nothing."""
    conversation.set_step(session, customer_id, BIRTHDAY_CONFIRM_STEP, now,
                          {"day": day, "month": month, "year": year, "nonce": nonce})


def settle_birthday(session: Session, customer_id: int, agreed: bool, nonce: str, now: datetime) -> bool | None:
    """Yes saves the proposed date; no asks again. None for a double tap, an older question or
    forged data."""
    step = conversation.current_step(session, customer_id, now)
    if step is None or step.name != BIRTHDAY_CONFIRM_STEP or step.data.get("nonce") != nonce:
        return None
    conversation.clear_step(session, customer_id)
    if not agreed:
        conversation.set_step(session, customer_id, BIRTHDAY_ASK_STEP, now)
        return False
    set_birthday(session, customer_id, step.data["day"], step.data["month"], step.data.get("year"))
    return True


# --- what the customer can change themselves (/einstellungen) ---------------------------------

NAME_STEP = "awaiting_name"
MAX_NAME = 64  # the name the bot calls them by; longer is not a name


class NameRefusal(Refusal):
    """``reason``: empty, too_long."""


def ask_name(session: Session, customer_id: int, now: datetime) -> None:
    """"Name ändern": the customer's next text is the name the shop calls them by."""
    conversation.set_step(session, customer_id, NAME_STEP, now)


def rename(session: Session, customer_id: int, typed: str, now: datetime) -> str:
    """The name the shop calls the customer by (greetings, offers, the staff's view); control
    and invisible characters are dropped. Returns the name as stored."""
    name = clean_name(typed, MAX_NAME + 1)  # one more than allowed: too long is refused, not cut
    if not name:
        raise NameRefusal("empty")
    if len(name) > MAX_NAME:
        raise NameRefusal("too_long", max=MAX_NAME)
    conversation.take_step(session, customer_id, NAME_STEP, now)
    customer = session.get(Customer, customer_id)
    customer.first_name = name
    session.add(customer)
    return name
