"""The shop's owners, and how the first one becomes owner without looking up any id.

Owners come from three places. ``STAMMGAST_ADMIN_IDS`` (the environment) wins: while it is set,
it alone names the owners. Otherwise the owners are config.yml's ``staff.admin_ids`` together
with the owners made in the chat (table ``shop_owner``).

While there is no owner at all, the bot makes a one-time owner code (``pending_code``) and
prints it on its console; whoever sends it to the bot in a private chat becomes an owner
(``claim``). The code is 8 characters of Crockford's base 32 (40 bits: guessing it through
the per-chat rate limit would take centuries) and stays the same over restarts until it is
used, so the console and ``doctor`` show the same code. Once there is an owner no code works.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlmodel import Session

from storage.models import OwnerCode, ShopOwner
from storage.sql import insert_new

# Crockford's base 32: no I, L, O or U, so what people misread is mapped back (``normalize``).
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
_MISREAD = str.maketrans({"O": "0", "I": "1", "L": "1"})
# What a message must look like to be tried as a code: 8 letters or digits, spaces and dashes
# anywhere (the handler's filter; ordinary text never costs a database read).
CODE_SHAPE = r"^[\s-]*(?:[A-Za-z0-9][\s-]*){8}$"
ENVIRONMENT, CONFIG_FILE, CHAT = "environment", "config.yml", "chat"


@dataclass(frozen=True)
class Owner:
    telegram_user_id: int
    source: str  # ENVIRONMENT, CONFIG_FILE or CHAT


def effective_owners(from_environment: tuple[int, ...] | None, from_config: tuple[int, ...],
                     from_chat: tuple[int, ...]) -> list[Owner]:
    """Who the owners are, and where each came from: the environment's list wins outright,
    else config.yml's and the chat's together (an id in both counts as config.yml's)."""
    if from_environment:  # an empty list names nobody: as if unset (else nobody could become owner)
        return [Owner(user_id, ENVIRONMENT) for user_id in dict.fromkeys(from_environment)]
    owners = [Owner(user_id, CONFIG_FILE) for user_id in dict.fromkeys(from_config)]
    return owners + [Owner(user_id, CHAT) for user_id in dict.fromkeys(from_chat) if user_id not in from_config]


def chat_owner_ids(session: Session) -> tuple[int, ...]:
    """The owners made in the chat, oldest first."""
    return tuple(session.execute(select(ShopOwner.telegram_user_id)
                                 .order_by(ShopOwner.added_at, ShopOwner.telegram_user_id)).scalars())


def owners(session: Session, from_environment: tuple[int, ...] | None, from_config: tuple[int, ...]) -> list[Owner]:
    return effective_owners(from_environment, from_config, chat_owner_ids(session))


def normalize(text: str) -> str:
    """A typed code as stored: upper case, without spaces and dashes, misread letters mapped back."""
    return re.sub(r"[\s-]+", "", text).upper().translate(_MISREAD)


def shown(code: str) -> str:
    """The code as people read it: XXXX-XXXX."""
    return f"{code[:4]}-{code[4:]}"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def pending_code(session: Session, now: datetime) -> str:
    """The owner code of a shop without owners: the stored one, or a new one (stored).
    The caller asks only while there is no owner."""
    stored = session.get(OwnerCode, 1)
    if stored is not None:
        return stored.code
    insert_new(session, OwnerCode.__table__, [{"id": 1, "code": new_code(), "created_at": now}], ["id"])
    return session.get(OwnerCode, 1, populate_existing=True).code  # a replica starting at once may have won


def current_code(session: Session) -> str | None:
    """The owner code waiting to be used, if any (``doctor`` shows it)."""
    stored = session.get(OwnerCode, 1)
    return stored.code if stored is not None else None


def claim(session: Session, text: str, user_id: int, owner_ids: tuple[int, ...], now: datetime) -> bool:
    """``text`` is the owner code and there is no owner (``owner_ids``, the running ones, nor one
    made in the chat meanwhile): ``user_id`` becomes an owner and the code is used up. Returns
    whether they did; anything else changes nothing."""
    if owner_ids or chat_owner_ids(session):
        return False
    used = session.execute(delete(OwnerCode).where(OwnerCode.id == 1, OwnerCode.code == normalize(text)))
    if used.rowcount != 1:  # a wrong code, or someone else used it a moment ago
        return False
    insert_new(session, ShopOwner.__table__, [{"telegram_user_id": user_id, "added_at": now}], ["telegram_user_id"])
    return True


def forget_code(session: Session) -> None:
    """There are owners (configured meanwhile): a code left from before must not work or be shown."""
    session.execute(delete(OwnerCode))
