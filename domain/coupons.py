"""Coupons: a personal code that comes with a campaign or a milestone greeting ("10 % auf eine
Packung Bohnen, Code K7QX-2M9P, gültig bis 31. Dezember"), redeemed once at the counter with
/einloesen, like a reward code.

Coupon codes use the reward codes' alphabet and length, so staff type both the same way;
/einloesen looks the code up among rewards first, then among coupons. A coupon's code is
unique among coupons; with 32**8 possible codes a clash with a reward code is practically
impossible, and would still redeem only the reward.

Both kinds of code also travel as a deep link (``PAYLOAD_PREFIX`` + code, the QR code the
customer shows at the counter): staff who scan it see the code (``look_up``) with a button
that redeems it through ``redeem_any``, under the same rules as /einloesen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlmodel import Session, select

from domain import outbox, rewards, team
from domain.rules import codes
from domain.rewards import UseError
from storage.models import Coupon, Customer, Redemption

INSERT_CHUNK = 500
# t.me/<bot>?start=code_K7QX2M9P: a reward or coupon code as a link (its QR code at the counter).
PAYLOAD_PREFIX = "code_"
OPEN, USED, EXPIRED = "open", "used", "expired"


def _fresh_codes(session: Session, count: int) -> list[str]:
    """``count`` distinct codes no coupon has yet."""
    found: set[str] = set()
    while len(found) < count:
        wanted = {codes.new_code(codes.REWARD_CODE_LENGTH) for _ in range(count - len(found))} - found
        taken = set(session.exec(select(Coupon.code).where(Coupon.code.in_(wanted))).all()) if wanted else set()
        found |= wanted - taken
    return sorted(found)


def link(code: str) -> dict[str, str]:
    """A message parameter: the code as the customer reads it ("K7QX-2M9P"), a link that opens
    the bot with its QR code for the counter."""
    return outbox.link_param(PAYLOAD_PREFIX + code, codes.grouped(code))


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


@dataclass(frozen=True)
class CodeView:
    """A reward or coupon code as the counter sees it before redeeming it: what, whose, until when."""

    code: str
    offer: str  # a coupon's offer or a reward's name (as the shop wrote it)
    reward_key: str | None  # the reward's catalog key (for its English name); None for a coupon
    customer_id: int
    customer_name: str
    customer_code: str | None
    expires_at: datetime
    used_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.used_at is not None:
            return USED
        return EXPIRED if self.expires_at <= now else OPEN


def look_up(session: Session, typed_code: str) -> CodeView | None:
    """A reward code, or else a coupon code (the order of ``redeem_any``); None when there is no such code."""
    code = codes.normalize(typed_code, codes.REWARD_CODE_LENGTH)
    if code is None:
        return None
    redemption = session.exec(select(Redemption).where(Redemption.code == code)).first()
    if redemption is not None:
        return _view(session, code, redemption.reward_name, redemption.reward_key, redemption.customer_id,
                     redemption.expires_at, redemption.used_at)
    coupon = find(session, code)
    if coupon is not None:
        return _view(session, code, coupon.offer, None, coupon.customer_id, coupon.expires_at, coupon.redeemed_at)
    return None


def _view(session: Session, code: str, offer: str, reward_key: str | None, customer_id: int, expires_at: datetime,
          used_at: datetime | None) -> CodeView:
    customer = session.get(Customer, customer_id)
    return CodeView(code, offer, reward_key, customer_id, customer.first_name, customer.code, expires_at, used_at)


def _error(reason: str, coupon: Coupon) -> UseError:
    error = UseError(reason)
    error.reward_name, error.used_at, error.expires_at = coupon.offer, coupon.redeemed_at, coupon.expires_at
    return error
