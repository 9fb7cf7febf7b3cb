"""The owner's setup checklist: what a shop still has to do before its bot serves customers
and the team well. Pure rules on plain facts (``SetupFacts``), which the bot layer gathers from
the settings, config.yml, the FAQ file, Telegram and the database; the owner home
(bot.handlers.owner_home) shows the items, and ``python -m bot doctor`` shares the FAQ rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session

from domain import customers

# Details of the bundled sample FAQ (a café in Freiburg) that no real shop's answers contain:
# while any answer still has one, customers get the sample shop's address and phone number.
SAMPLE_FAQ_MARKERS = ("kaffeehaus-morgenrot.de", "Grünwälderstraße 14", "0761 123456")

COULD_NOT_CHECK = "could_not_check"


def faq_is_sample(answers: Iterable[str]) -> bool:
    """True while the FAQ answers still carry the bundled sample shop's details."""
    return any(marker in answer for answer in answers for marker in SAMPLE_FAQ_MARKERS)


@dataclass(frozen=True)
class SetupFacts:
    staff_chat_id: int | None
    # Whether the bot is an administrator of the staff group; None when it could not be asked.
    bot_admin_in_staff_chat: bool | None
    missing_privacy_keys: tuple[str, ...]
    faq_is_sample: bool
    receipt_secret_set: bool
    webhook_mode: bool
    webhook_secret_set: bool
    owners_out_of_reach: tuple[int, ...]


@dataclass(frozen=True)
class Item:
    key: str
    done: bool
    detail: str | None = None  # what is missing (keys, ids) or COULD_NOT_CHECK


def checklist(facts: SetupFacts) -> list[Item]:
    """The items in the order an owner best does them; items that do not apply are left out."""
    items = [Item("staff_chat", facts.staff_chat_id is not None)]
    if facts.staff_chat_id is not None:
        items.append(_bot_admin_item(facts.bot_admin_in_staff_chat))
    items.append(Item("privacy", not facts.missing_privacy_keys, ", ".join(facts.missing_privacy_keys) or None))
    items.append(Item("faq", not facts.faq_is_sample))
    items.append(Item("receipt_secret", facts.receipt_secret_set))
    if facts.webhook_mode:
        items.append(Item("webhook_secret", facts.webhook_secret_set))
    unreachable = ", ".join(str(owner) for owner in facts.owners_out_of_reach)
    items.append(Item("owners_reachable", not facts.owners_out_of_reach, unreachable or None))
    return items


def _bot_admin_item(is_admin: bool | None) -> Item:
    # Without admin rights the bot does not hear staff replies and leave/join updates in the group.
    if is_admin is None:
        return Item("bot_admin", False, COULD_NOT_CHECK)
    return Item("bot_admin", is_admin)


def all_done(items: Iterable[Item]) -> bool:
    return all(item.done for item in items)


def owners_out_of_reach(session: Session, admin_ids: Iterable[int]) -> tuple[int, ...]:
    """Owners the bot cannot write to privately: they never wrote to it (no account), or
    Telegram said they blocked it. Reports, digests and escalations would not reach them. (An
    owner first seen in the staff group has an account and counts as reachable until a send
    to them fails.)"""
    unreachable = []
    for owner in admin_ids:
        account = customers.find_account(session, owner)
        if account is None or account.unreachable_since is not None:
            unreachable.append(owner)
    return tuple(unreachable)
