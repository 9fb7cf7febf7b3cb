"""Properties of what arrives as a code: customer and reward/coupon codes typed at the counter,
deep-link payloads (receipts ``r_``, referrals ``ref_``, cards ``c_``), receipt tokens and the
callback data of buttons. Every input is accepted or refused (None, ``ReceiptError``), never
another exception; a valid code is accepted, a changed one refused."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from telegram.ext import CallbackQueryHandler

from bot.app import BUTTONS, handlers
from domain import receipts, referrals
from domain.rules import codes
from tests.unit.property_strategies import mixed

LENGTHS = (codes.CUSTOMER_CODE_LENGTH, codes.REWARD_CODE_LENGTH)
code_chars = st.sampled_from(codes.ALPHABET)
valid_codes = st.sampled_from(LENGTHS).flatmap(lambda n: st.text(code_chars, min_size=n, max_size=n))
typed_codes = st.builds(lambda code, sep, lower, pad: pad + (code.lower() if lower else code)[:4] + sep
                        + (code.lower() if lower else code)[4:] + pad,
                        valid_codes, st.sampled_from(["", "-", " ", "_", ".", " - ", "--"]), st.booleans(),
                        st.sampled_from(["", " ", "\t", "\n"]))


@given(mixed(typed_codes, st.text(st.sampled_from(codes.ALPHABET + "01OIoiß-_. "), max_size=12)),
       st.sampled_from(LENGTHS))
@example("ß" * 3, 6)
@example("K7QX-2M9Pẞ", 8)
@example("k7qx\u200b2m9p", 8)
def test_a_code_or_none(text, length):
    code = codes.normalize(text, length)
    assert code is None or (len(code) == length and set(code) <= set(codes.ALPHABET))


@given(valid_codes)
def test_a_valid_code_is_accepted_however_it_is_written(code):
    n = len(code)
    assert codes.normalize(code, n) == code
    assert codes.normalize(codes.grouped(code), n) == code
    assert codes.normalize(f" {code[:3].lower()}-{code[3:]} ", n) == code
    assert codes.normalize(code, 14 - n) is None  # the other kind's length


@given(valid_codes, st.data())
def test_a_changed_code_is_refused(code, data):
    position = data.draw(st.integers(0, len(code) - 1))
    replacement = data.draw(st.sampled_from("01OIoi!ß€?äΩ٣"))
    assert codes.normalize(code[:position] + replacement + code[position + 1:], len(code)) is None
    assert codes.normalize(code[:position] + code[position + 1:], len(code)) is None  # one left out
    assert codes.normalize(code + data.draw(code_chars), len(code)) is None  # one too many


def test_new_codes_are_valid():
    for _ in range(200):
        for length in LENGTHS:
            code = codes.new_code(length)
            assert codes.normalize(code, length) == code


@given(mixed(typed_codes.map(lambda code: referrals.PAYLOAD_PREFIX + code), st.text(max_size=64)))
def test_referral_and_card_payloads(payload):
    """``/start ref_<code>``, ``/start c_<code>``: the handlers read the rest as a customer code."""
    for prefix in (referrals.PAYLOAD_PREFIX, "c_"):
        code = codes.normalize(payload.removeprefix(prefix), codes.CUSTOMER_CODE_LENGTH)
        assert code is None or len(code) == codes.CUSTOMER_CODE_LENGTH


# --- receipt tokens -----------------------------------------------------------------------------

SECRET = "a test secret, not the shop's"
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
RECEIPT_REASONS = {"malformed", "forged", "expired"}
tokens = st.one_of(st.from_regex(r"[A-Za-z0-9_-]{36}", fullmatch=True), st.text(max_size=50),
                   st.from_regex(r"[A-Za-z0-9_=+/-]{30,40}\n?", fullmatch=True))


@given(mixed(tokens), st.sampled_from([SECRET, "x"]))
@example("A" * 36, SECRET)
@example("A" * 35 + "\n", SECRET)
def test_a_receipt_or_a_refusal(token, secret):
    try:
        receipt = receipts.verify(secret, token, NOW)
    except receipts.ReceiptError as error:
        assert error.reason in RECEIPT_REASONS
        return
    raise AssertionError(f"a token nobody issued was accepted: {receipt}")


@given(st.integers(1, 10**8), st.integers(1, 60 * 24 * 30))
def test_an_issued_receipt_verifies(amount_cents, minutes):
    amount = Decimal(amount_cents) / 100
    token = receipts.issue(SECRET, amount, NOW, minutes)
    assert len(receipts.PAYLOAD_PREFIX + token) <= 64  # a Telegram deep-link payload
    receipt = receipts.verify(SECRET, token, NOW)
    assert receipt.amount == amount and receipt.expires_at > NOW
    with pytest.raises(receipts.ReceiptError) as error:
        receipts.verify(SECRET, token, NOW + timedelta(minutes=minutes + 1))
    assert error.value.reason == "expired"
    with pytest.raises(receipts.ReceiptError) as error:
        receipts.verify("another secret", token, NOW)
    assert error.value.reason == "forged"


@given(st.integers(1, 10**6), st.data())
def test_a_changed_receipt_is_refused(amount_cents, data):
    token = receipts.issue(SECRET, Decimal(amount_cents) / 100, NOW, 60)
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from("AQgw_-Z9+/=. \n"))
    assume(replacement != token[position])
    with pytest.raises(receipts.ReceiptError) as error:
        receipts.verify(SECRET, token[:position] + replacement + token[position + 1:], NOW)
    assert error.value.reason in {"malformed", "forged"}


def _signed(nonce: bytes, amount_cents: int, expires_minutes: int) -> str:
    body = receipts._BODY.pack(nonce, amount_cents, expires_minutes)
    return base64.urlsafe_b64encode(body + receipts._mac(SECRET.encode(), body)).decode("ascii")


@given(st.binary(min_size=6, max_size=6), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
@example(b"\0" * 6, 1, 2**32 - 1)
def test_any_signed_body_is_a_receipt_or_a_refusal(nonce, amount_cents, expires_minutes):
    """Fields only the till can sign (e.g. a receipt valid for ages): still no other exception."""
    try:
        receipt = receipts.verify(SECRET, _signed(nonce, amount_cents, expires_minutes), NOW)
    except receipts.ReceiptError as error:
        assert error.reason in RECEIPT_REASONS
        return
    assert receipt.amount_cents == amount_cents > 0 and receipt.expires_at > NOW


# --- callback data ------------------------------------------------------------------------------

def _patterns() -> list[re.Pattern]:
    return [handler.pattern for handler in handlers(staff_chat_id=-100) if isinstance(handler, CallbackQueryHandler)
            and handler.pattern is not None]


PATTERNS = _patterns()


@given(st.sampled_from(range(len(BUTTONS))).flatmap(
    lambda index: st.tuples(st.just(index), st.from_regex(BUTTONS[index].pattern, fullmatch=True))))
def test_callback_data_a_button_answers_has_the_fields_its_handler_reads(indexed):
    """What matches a button's pattern splits into ``:`` fields whose numbers int() reads and a
    PostgreSQL BIGINT holds (the handlers unpack and convert them without a check)."""
    index, data = indexed
    assert PATTERNS[index].match(data)
    for field in data.split(":"):
        if field.isdigit():
            assert 0 <= int(field) < 2**63


@given(st.one_of(st.sampled_from(BUTTONS).flatmap(lambda button: st.from_regex(button.pattern, fullmatch=True)),
                 st.text(max_size=30)),
       st.sampled_from(["", "\n", "x", ":", ":1", " ", "\u200b"]))
def test_a_button_answers_only_the_whole_callback_data(data, tail):
    """``$`` also matches before a final newline: "loyalty:points\\n" reached the points button,
    whose handler looked the data up in a dict (KeyError). Forged data belongs to the stale-button
    handler."""
    for pattern in PATTERNS:
        assert bool(pattern.match(data + tail)) == bool(pattern.fullmatch(data + tail))


@pytest.mark.parametrize("data", ["loyalty:points\n", "consent:yes\n", "tkt:claim:12\n", "menu:main\n"])
def test_a_newline_after_callback_data_is_a_stale_button(data):
    assert not any(pattern.match(data) for pattern in PATTERNS)
