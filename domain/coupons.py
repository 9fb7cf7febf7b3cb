"""Coupons: a personal code that comes with a campaign or a milestone greeting ("10 % auf eine
Packung Bohnen, Code K7QX-2M9P, gültig bis 31. Dezember"), redeemed once at the counter with
/einloesen, like a reward code.

Coupon codes use the reward codes' alphabet and length, so staff type both the same way;
/einloesen looks the code up among rewards first, then among coupons. A coupon's code is
unique among coupons; with 32**8 possible codes a clash with a reward code is practically
impossible, and would still redeem only the reward.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlmodel import Session, select

from domain import rewards, team
from domain.rules import codes
from domain.rewards import UseError
from storage.models import Coupon, Customer

INSERT_CHUNK = 500


def _fresh_codes(session: Session, count: int) -> list[str]:
    """``count`` distinct codes no coupon has yet."""
    found: set[str] = set()
    while len(found) < count:
        wanted = {codes.new_code(codes.REWARD_CODE_LENGTH) for _ in range(count - len(found))} - found
        taken = set(session.exec(select(Coupon.code).where(Coupon.code.in_(wanted))).all()) if wanted else set()
        found |= wanted - taken
    return sorted(found)


def expiry(issued_at: datetime, valid_days: int) -> datetime:
    """When a coupon issued at ``issued_at`` stops being valid."""
    return issued_at + timedelta(days=valid_days)


def issue(session: Session, customer_id: int, offer: str, valid_days: int, now: datetime, *,
          occasion: str | None = None, campaign_id: int | None = None, run: int = 0) -> Coupon:
    """One coupon for one customer, once per occasion (a milestone's "birthday:2026") or per
    campaign run: asking again returns the coupon issued before."""
    query = select(Coupon).where(Coupon.customer_id == customer_id)
    query = query.where(Coupon.occasion == occasion) if occasion else query.where(
        Coupon.campaign_id == campaign_id, Coupon.run == run)
    existing = session.exec(query).first()
    if existing is not None:
        return existing
    coupon = Coupon(code=_fresh_codes(session, 1)[0], campaign_id=campaign_id, run=run, occasion=occasion,
                    customer_id=customer_id, offer=offer[:200], created_at=now,
                    expires_at=expiry(now, valid_days))
    session.add(coupon)
    session.flush()
    return coupon


def issue_for_run(session: Session, campaign_id: int, run: int, customer_ids: Iterable[int], offer: str,
                  valid_days: int, now: datetime) -> dict[int, str]:
    """A coupon for every recipient of one campaign run, inserted in bulk; customer id -> code.
    Recipients who already have theirs (a repeated run) keep it."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    existing = dict(session.exec(select(Coupon.customer_id, Coupon.code).where(
        Coupon.campaign_id == campaign_id, Coupon.run == run, Coupon.customer_id.in_(ids))).all())
    missing = [customer_id for customer_id in ids if customer_id not in existing]
    rows = [{"code": code, "campaign_id": campaign_id, "run": run, "occasion": None, "customer_id": customer_id,
             "offer": offer[:200], "created_at": now, "expires_at": expiry(now, valid_days)}
            for customer_id, code in zip(missing, _fresh_codes(session, len(missing)))]
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(insert(Coupon), rows[start:start + INSERT_CHUNK])
    return existing | {row["customer_id"]: row["code"] for row in rows}


@dataclass(frozen=True)
class UsedCoupon:
    offer: str  # what the code was good for (a coupon's offer or a reward's name)
    customer_name: str
    customer_code: str | None
    customer_id: int | None = None


def find(session: Session, typed_code: str) -> Coupon | None:
    code = codes.normalize(typed_code, codes.REWARD_CODE_LENGTH)
    return None if code is None else session.exec(select(Coupon).where(Coupon.code == code)).first()


def mark_used(session: Session, typed_code: str, staff_user_id: int, now: datetime) -> UsedCoupon:
    """/einloesen with a coupon code: good once, before it expires (reasons as for rewards)."""
    if codes.normalize(typed_code, codes.REWARD_CODE_LENGTH) is None:
        raise UseError("invalid_code")
    coupon = find(session, typed_code)
    if coupon is None:
        raise UseError("unknown_code")
    if coupon.redeemed_at is None and coupon.expires_at <= now:
        raise _error("expired", coupon)
    # Conditional UPDATE: of two staff members typing the same code at once, one wins.
    claimed = session.execute(update(Coupon).where(Coupon.id == coupon.id, Coupon.redeemed_at.is_(None))
                              .values(redeemed_at=now, redeemed_by=staff_user_id)).rowcount
    session.refresh(coupon)
    if not claimed:
        raise _error("already_used", coupon)
    customer = session.get(Customer, coupon.customer_id)
    return UsedCoupon(coupon.offer, customer.first_name, customer.code, customer.id)


def redeem_any(session: Session, typed_code: str, staff_user_id: int, now: datetime) -> UsedCoupon:
    """/einloesen: a reward code, or else a coupon code; what it was good for and whose it is.
    Staff cannot redeem the codes of their own customer account (``team.SelfService``)."""
    try:
        used = rewards.mark_used(session, typed_code, staff_user_id, now)
    except UseError as error:
        if error.reason != "unknown_code":
            raise
        coupon = mark_used(session, typed_code, staff_user_id, now)
    else:
        coupon = UsedCoupon(used.redemption.reward_name, used.customer_name, used.customer_code,
                            used.redemption.customer_id)
    team.refuse_self_service(session, team.REDEMPTION, coupon.customer_id, staff_user_id, code=typed_code)
    return coupon


def _error(reason: str, coupon: Coupon) -> UseError:
    error = UseError(reason)
    error.reward_name, error.used_at, error.expires_at = coupon.offer, coupon.redeemed_at, coupon.expires_at
    return error
