"""Receipt QR codes: a signed, expiring, one-time token for the points of one purchase.

The till (``python -m bot receipt 12,50``) or staff (``/beleg 12,50``) create a token; the
customer scans the QR code, Telegram opens ``t.me/<bot>?start=r_<token>`` and the bot books
the purchase for whoever scanned first. The token carries the amount and the expiry, signed
with HMAC-SHA256 under the shop's secret, so nobody can mint or change one; a random nonce
makes each token usable once (``used_receipt``).

Layout (27 bytes, 36 characters base64url, so the deep link stays under Telegram's 64):
nonce 6 | amount in cents 4 | expiry in minutes since 1970 4 | MAC 13.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from domain import ledger, purchases
from domain.config import LoyaltySection
from storage.models import UsedReceipt
from domain.rules.errors import Refusal

PAYLOAD_PREFIX = "r_"
_BODY = struct.Struct(">6sII")
_MAC_BYTES = 13
_CONTEXT = b"stammgast receipt v1\x00"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{36}$")
MAX_AMOUNT_CENTS = 2**32 - 1


class ReceiptError(Refusal):
    """``reason``: malformed, forged, expired, already_used, already_yours, no_secret."""


@dataclass(frozen=True)
class Receipt:
    nonce: str
    amount_cents: int
    expires_at: datetime

    @property
    def amount(self) -> Decimal:
        return Decimal(self.amount_cents) / 100


def _mac(secret: bytes, body: bytes) -> bytes:
    return hmac.new(secret, _CONTEXT + body, hashlib.sha256).digest()[:_MAC_BYTES]


def _secret(secret: str | None) -> bytes:
    if not secret:
        raise ReceiptError("no_secret")
    return secret.encode("utf-8")


def issue(secret: str | None, amount: Decimal, now: datetime, valid_minutes: int) -> str:
    """The token (without the ``r_`` prefix) for a purchase of ``amount``."""
    if not Decimal(amount).is_finite():  # fix: Infinity raised OverflowError, not ValueError
        raise ValueError("amount out of range")
    amount_cents = purchases.cents(amount)
    if not 0 < amount_cents <= MAX_AMOUNT_CENTS:
        raise ValueError("amount out of range")
    expires = int((now + timedelta(minutes=valid_minutes)).timestamp() // 60)
    body = _BODY.pack(secrets.token_bytes(6), amount_cents, expires)
    return base64.urlsafe_b64encode(body + _mac(_secret(secret), body)).decode("ascii")


def verify(secret: str | None, token: str, now: datetime) -> Receipt:
    """Check form, signature and expiry; raises ``ReceiptError``."""
    key = _secret(secret)
    if not _TOKEN.fullmatch(token or ""):  # fix: match() let "$" accept a trailing newline
        raise ReceiptError("malformed")
    try:
        raw = base64.urlsafe_b64decode(token)
    except (binascii.Error, ValueError):
        raise ReceiptError("malformed") from None
    body, mac = raw[:_BODY.size], raw[_BODY.size:]
    if not hmac.compare_digest(mac, _mac(key, body)):
        raise ReceiptError("forged")
    nonce, amount_cents, expires = _BODY.unpack(body)
    try:
        expires_at = datetime.fromtimestamp(expires * 60, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):  # signed, but after the year 9999 (a till set to "forever")
        raise ReceiptError("malformed") from None
    if amount_cents == 0:
        raise ReceiptError("malformed")
    if expires_at <= now:
        raise ReceiptError("expired")
    return Receipt(nonce.hex(), amount_cents, expires_at)


def redeem(session: Session, customer_id: int, receipt: Receipt, rules: LoyaltySection,
           now: datetime) -> purchases.Booking:
    """Book the receipt's purchase for the customer who scanned it first; once per token."""
    # Fix: take the customer's lock first. On SQLite a SAVEPOINT opened before any other write
    # starts the transaction itself, and releasing it committed the marker at once, so a
    # booking that failed afterwards left the receipt spent without any points.
    ledger.lock(session, customer_id)
    used = session.get(UsedReceipt, receipt.nonce)
    if used is not None:
        raise ReceiptError("already_yours" if used.customer_id == customer_id else "already_used")
    marker = UsedReceipt(nonce=receipt.nonce, customer_id=customer_id, used_at=now)
    try:
        with session.begin_nested():  # two phones scanning the same receipt at once: one wins
            session.add(marker)
    except IntegrityError:
        raise ReceiptError("already_used") from None
    booking = purchases.book_purchase(session, customer_id, receipt.amount, rules, now,
                                      key=f"receipt:{receipt.nonce}", source=purchases.RECEIPT)
    marker.purchase_id = booking.purchase.id
    session.add(marker)
    return booking
