"""Rewards: the catalog from config, buying a reward with points, and staff marking the
one-time code as used at the counter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from domain import conversation, ledger
from domain.rules import codes
from domain.config import LoyaltySection, RewardConfig
from storage.models import Customer, Redemption
from domain.rules.errors import Refusal


class RedeemError(Refusal):
    """``reason``: unknown_reward, not_enough_points, already_done; ``details`` fill the text."""

    def __init__(self, reason: str, **details):
        super().__init__(reason, **details)

    @property
    def details(self) -> dict:
        return self.params


def reward(rules: LoyaltySection, key: str) -> RewardConfig | None:
    return next((r for r in rules.rewards if r.key == key), None)


@dataclass(frozen=True)
class Redeemed:
    redemption: Redemption
    balance: int


def redeem(session: Session, customer_id: int, reward_key: str, request_id: str, rules: LoyaltySection,
           now: datetime) -> Redeemed:
    """Deduct the reward's cost and issue a one-time code.

    ``request_id`` names the customer's confirmation (one confirmation, one redemption): a
    double tap or a redelivered update raises ``already_done`` instead of paying twice.
    """
    chosen = reward(rules, reward_key)
    if chosen is None:
        raise RedeemError("unknown_reward")
    version = ledger.lock(session, customer_id)
    key = f"reward:{customer_id}:{request_id}"
    if ledger.entry_exists(session, key):
        raise RedeemError("already_done")
    ledger.settle_expiry(session, customer_id, version, now)
    available = ledger.balance(session, customer_id)
    if available < chosen.cost:
        raise RedeemError("not_enough_points", balance=available, cost=chosen.cost, missing=chosen.cost - available)
    redemption = Redemption(code=_unused_code(session), customer_id=customer_id, reward_key=chosen.key,
                            reward_name=chosen.name, cost=chosen.cost, created_at=now,
                            expires_at=now + timedelta(days=chosen.valid_days))
    session.add(redemption)
    session.flush()
    ledger.add_entry(session, customer_id, -chosen.cost, ledger.REWARD, key, now,
                     redemption_id=redemption.id, note=chosen.name)
    return Redeemed(redemption, available - chosen.cost)


def _unused_code(session: Session) -> str:
    while True:
        code = codes.new_code(codes.REWARD_CODE_LENGTH)
        if session.exec(select(Redemption.id).where(Redemption.code == code)).first() is None:
            return code


class UseError(Refusal):
    """Why a code cannot be used; carries plain values (the transaction is rolled back)."""

    def __init__(self, reason: str, redemption: Redemption | None = None):
        super().__init__(reason)  # invalid_code | unknown_code | already_used | expired
        self.reward_name = redemption.reward_name if redemption else None
        self.used_at = redemption.used_at if redemption else None
        self.expires_at = redemption.expires_at if redemption else None


@dataclass(frozen=True)
class UsedCode:
    redemption: Redemption
    customer_name: str
    customer_code: str | None


def mark_used(session: Session, typed_code: str, staff_user_id: int, now: datetime) -> UsedCode:
    """/einloesen: a code is good for one use, before it expires."""
    code = codes.normalize(typed_code, codes.REWARD_CODE_LENGTH)
    if code is None:
        raise UseError("invalid_code")
    redemption = session.exec(select(Redemption).where(Redemption.code == code)).first()
    if redemption is None:
        raise UseError("unknown_code")
    if redemption.used_at is None and redemption.expires_at <= now:
        raise UseError("expired", redemption)
    # Conditional UPDATE: of two staff members typing the same code at once, one wins.
    claimed = session.execute(
        update(Redemption).where(Redemption.id == redemption.id, Redemption.used_at.is_(None))
        .values(used_at=now, used_by=staff_user_id)
    ).rowcount
    session.refresh(redemption)
    if not claimed:
        raise UseError("already_used", redemption)
    customer = session.get(Customer, redemption.customer_id)
    return UsedCode(redemption, customer.first_name, customer.code)


def open_redemptions(session: Session, customer_id: int, now: datetime) -> list[Redemption]:
    return list(session.exec(
        select(Redemption).where(Redemption.customer_id == customer_id, Redemption.used_at.is_(None),
                                 Redemption.expires_at > now).order_by(Redemption.created_at)
    ))


# --- what customers do -----------------------------------------------------------------------

REDEEM_STEP = "confirm_redeem"


def catalog_for(session: Session, customer_id: int, now: datetime) -> tuple[int, list[Redemption]]:
    """/praemien: the customer's balance and the reward codes they have not used yet."""
    return ledger.current_balance(session, customer_id, now), open_redemptions(session, customer_id, now)


def choose_reward(session: Session, customer_id: int, reward_key: str, nonce: str, now: datetime) -> int:
    """A reward picked from the catalog waits for confirmation under ``nonce``; returns the balance."""
    conversation.set_step(session, customer_id, REDEEM_STEP, now, {"reward": reward_key, "nonce": nonce})
    return ledger.current_balance(session, customer_id, now)


def confirm_redemption(session: Session, customer_id: int, nonce: str, rules: LoyaltySection,
                       now: datetime) -> Redeemed:
    """"Ja, einlösen": the chosen reward, once; a double tap, an old button or forged data
    is refused (``already_done``)."""
    step = conversation.take_step(session, customer_id, REDEEM_STEP, now)
    if step is None or step.data.get("nonce") != nonce:
        raise RedeemError("already_done")
    return redeem(session, customer_id, step.data["reward"], nonce, rules, now)


def cancel_redemption(session: Session, customer_id: int, now: datetime) -> None:
    conversation.take_step(session, customer_id, REDEEM_STEP, now)
