"""Receipt tokens: signed, expiring, short enough for a Telegram deep link, and strict about
anything that is not exactly what we issued."""

import base64
import re
import string
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain import receipts
from domain.receipts import PAYLOAD_PREFIX, ReceiptError, issue, verify

SECRET = "ein-langes-geheimnis-nur-fuer-tests"
NOW = datetime(2026, 11, 22, 12, 0, 30, tzinfo=timezone.utc)
DEEP_LINK_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")  # Telegram's rule for ?start=
B64URL = string.ascii_letters + string.digits + "-_"


def reason_of(token, secret=SECRET, now=NOW) -> str:
    with pytest.raises(ReceiptError) as caught:
        verify(secret, token, now)
    return caught.value.reason


@pytest.mark.parametrize("amount", ["0.01", "4.50", "12.99", "1000.00", "42949672.95"])
def test_round_trip_keeps_the_amount_and_the_expiry(amount):
    token = issue(SECRET, Decimal(amount), NOW, 120)
    receipt = verify(SECRET, token, NOW)
    assert receipt.amount == Decimal(amount)
    assert receipt.amount_cents == int(Decimal(amount) * 100)
    # the expiry is kept to the minute, never later than promised
    assert NOW + timedelta(minutes=119) < receipt.expires_at <= NOW + timedelta(minutes=120)
    assert receipt.expires_at.tzinfo is not None


def test_every_token_is_new_and_has_its_own_nonce():
    tokens = {issue(SECRET, Decimal("5.00"), NOW, 60) for _ in range(200)}
    assert len(tokens) == 200
    assert len({verify(SECRET, t, NOW).nonce for t in tokens}) == 200


def test_token_fits_a_telegram_deep_link():
    for amount in ("0.01", "5.00", "42949672.95"):
        token = issue(SECRET, Decimal(amount), NOW, 60 * 24 * 14)
        payload = PAYLOAD_PREFIX + token
        assert DEEP_LINK_PAYLOAD.match(payload), payload
        assert len(payload) <= 64


def test_any_single_changed_character_is_refused():
    token = issue(SECRET, Decimal("12.50"), NOW, 60)
    for position in range(len(token)):
        for replacement in {B64URL[(B64URL.index(token[position]) + 1) % 64], "A", "_", "="}:
            if replacement == token[position]:
                continue
            tampered = token[:position] + replacement + token[position + 1:]
            assert reason_of(tampered) in ("forged", "malformed"), (position, replacement)


def test_a_changed_amount_with_the_old_signature_is_forged():
    token = issue(SECRET, Decimal("1.00"), NOW, 60)
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[6:10] = (100_000).to_bytes(4, "big")  # 1000,00 € instead of 1,00 €
    assert reason_of(base64.urlsafe_b64encode(bytes(raw)).decode()) == "forged"


def test_a_later_expiry_with_the_old_signature_is_forged():
    token = issue(SECRET, Decimal("1.00"), NOW, 60)
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[10:14] = (int.from_bytes(raw[10:14], "big") + 60 * 24 * 365).to_bytes(4, "big")
    assert reason_of(base64.urlsafe_b64encode(bytes(raw)).decode()) == "forged"


def test_wrong_secret_is_forged():
    token = issue(SECRET, Decimal("3.20"), NOW, 60)
    assert reason_of(token, secret="ein-anderes-geheimnis") == "forged"
    assert reason_of(token, secret=SECRET + " ") == "forged"


def test_expired_after_its_minutes():
    token = issue(SECRET, Decimal("3.20"), NOW, 60)
    assert verify(SECRET, token, NOW + timedelta(minutes=59)).amount == Decimal("3.20")
    assert reason_of(token, now=NOW + timedelta(minutes=60)) == "expired"
    assert reason_of(token, now=NOW + timedelta(days=30)) == "expired"


def test_a_forged_expired_token_says_forged_not_expired():
    token = issue("somebody-else", Decimal("3.20"), NOW - timedelta(days=1), 60)
    assert reason_of(token) == "forged"


@pytest.mark.parametrize("amount", ["0", "0.00", "0.004", "-1", "-0.01", "42949672.96", "1000000000",
                                    "Infinity", "-Infinity", "NaN"])
def test_zero_negative_and_huge_amounts_are_refused_at_issue(amount):
    with pytest.raises(ValueError):
        issue(SECRET, Decimal(amount), NOW, 60)


@pytest.mark.parametrize("secret", [None, ""])
def test_no_secret_configured(secret):
    with pytest.raises(ReceiptError) as caught:
        issue(secret, Decimal("1.00"), NOW, 60)
    assert caught.value.reason == "no_secret"
    token = issue(SECRET, Decimal("1.00"), NOW, 60)
    assert reason_of(token, secret=secret) == "no_secret"


@pytest.mark.parametrize("garbage", [
    "",
    " ",
    "hallo",
    "r_",
    "ÄÖÜäöüß" * 5 + "x",                                   # 36 characters, none of them base64url
    "😀" * 36,
    "A" * 1000,
    "A" * 35,
    "A" * 37,
    base64.urlsafe_b64encode(b"x" * 26).decode(),           # wrong length (36 with padding)
    base64.urlsafe_b64encode(b"x" * 28).decode(),           # 40 characters
    base64.urlsafe_b64encode(b"x" * 24).decode(),           # 32 characters
    base64.b64encode(b"\xfb\xff" * 13 + b"\xfb").decode(),  # standard base64 ("+", "/"), not url-safe
    None,
])
def test_garbage_is_malformed(garbage):
    assert reason_of(garbage) == "malformed"


def test_whitespace_or_a_prefix_around_a_valid_token_is_malformed():
    token = issue(SECRET, Decimal("5.00"), NOW, 60)
    for wrapped in (token + "\n", " " + token, token + " ", PAYLOAD_PREFIX + token, token + "=", token[:-1]):
        assert reason_of(wrapped) == "malformed", repr(wrapped)


def test_verify_does_not_need_the_clock_of_the_issuer():
    token = issue(SECRET, Decimal("5.00"), NOW, 60)
    receipt = verify(SECRET, token, NOW - timedelta(days=365))  # a till whose clock runs late
    assert receipt.amount == Decimal("5.00")


def test_receipt_error_reasons_are_a_closed_set():
    seen = set()
    token = issue(SECRET, Decimal("5.00"), NOW, 60)
    for secret, candidate, now in ((None, token, NOW), (SECRET, "x", NOW), ("other", token, NOW),
                                   (SECRET, token, NOW + timedelta(hours=2))):
        seen.add(reason_of(candidate, secret, now))
    assert seen == {"no_secret", "malformed", "forged", "expired"}
    assert receipts.MAX_AMOUNT_CENTS == 2**32 - 1
