"""The loyalty use cases on a real database (SQLite and PostgreSQL): booking once per key,
balances, tiers and their messages, storno, rewards and their codes, receipts, referrals,
expiry, and what happens when two requests for the same points arrive at once.

The rules are built here, not read from config.yml, so the sample shop's settings can change
without changing these tests.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlmodel import func, select

from domain import counter, customers, ledger, purchases, receipts, referrals, rewards
from domain.rules import codes
from domain.config import LoyaltySection, RewardConfig, TierConfig
from domain.customers import TelegramProfile
from storage.models import Customer, OutboxMessage, PointsEntry, Purchase, Redemption, UsedReceipt

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
DAY = timedelta(days=1)
SECRET = "receipt-secret-for-tests"
RULES = LoyaltySection(
    points_per_euro=Decimal(1),
    rounding="down",
    tier_window_months=12,
    tiers=(TierConfig(name="Bronze", threshold=0),
           TierConfig(name="Silber", threshold=100, multiplier=Decimal("1.25")),
           TierConfig(name="Gold", threshold=300, multiplier=Decimal("1.5"))),
    expiry_months=24,
    expiry_warning_days=30,
    rewards=(RewardConfig(key="kaffee", name="Ein Kaffee", cost=40, valid_days=30),
             RewardConfig(key="kuchen", name="Ein Stück Kuchen", cost=60, valid_days=30)),
    referral_bonus=50,
)
EXPIRY = timedelta(days=730)  # 24 months as the rules count them


# --- helpers ----------------------------------------------------------------------------------

def _tier(name: str) -> dict:
    """A tier's name as the outbox keeps it: rendered in the recipient's language (no name_en here)."""
    return {"by_language": {"de": name, "en": name}}


def telegram_customer(store, user_id=4242, name="Anna") -> int:
    with store.session() as session:
        return customers.register(session, TelegramProfile(user_id, user_id, name), NOW).customer.id


def plain_customer(store, name="Bernd") -> int:
    """An imported customer without a Telegram account."""
    with store.session() as session:
        customer = Customer(code=customers.unused_customer_code(session), first_name=name,
                            created_at=NOW, last_seen_at=NOW)
        session.add(customer)
        session.flush()
        return customer.id


def book(store, customer_id, amount, key, now=NOW, rules=RULES) -> purchases.Booking:
    with store.session() as session:
        return purchases.book_purchase(session, customer_id, Decimal(amount), rules, now, key=key,
                                       source=purchases.COUNTER, booked_by=7)


def balance(store, customer_id) -> int:
    with store.session() as session:
        return ledger.balance(session, customer_id)


def entries(store, customer_id=None) -> list[PointsEntry]:
    with store.session() as session:
        query = select(PointsEntry).order_by(PointsEntry.id)
        if customer_id is not None:
            query = query.where(PointsEntry.customer_id == customer_id)
        return list(session.exec(query))


def outbox_rows(store) -> dict[str, OutboxMessage]:
    with store.session() as session:
        return {row.idempotency_key: row for row in session.exec(select(OutboxMessage))}


def count(store, model) -> int:
    with store.session() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def redeem(store, customer_id, reward_key, request_id, now=NOW, rules=RULES) -> rewards.Redeemed:
    with store.session() as session:
        return rewards.redeem(session, customer_id, reward_key, request_id, rules, now)


def redeem_error(store, customer_id, reward_key, request_id, now=NOW, rules=RULES) -> rewards.RedeemError:
    with pytest.raises(rewards.RedeemError) as caught:
        redeem(store, customer_id, reward_key, request_id, now, rules)
    return caught.value


def use_error(store, typed, now=NOW) -> rewards.UseError:
    with pytest.raises(rewards.UseError) as caught:
        with store.session() as session:
            rewards.mark_used(session, typed, 7, now)
    return caught.value  # plain values, readable after the rollback


# --- booking ----------------------------------------------------------------------------------

def test_purchase_credits_exactly_once_per_key(store):
    anna = plain_customer(store)
    first = book(store, anna, "12.99", "staff:1:100")
    assert (first.points, first.balance, first.duplicate, first.upgraded) == (12, 12, False, False)
    assert first.purchase.amount_cents == 1299 and first.purchase.source == "counter"
    again = book(store, anna, "99.00", "staff:1:100")  # a redelivered update, even with another amount
    assert again.duplicate and again.purchase.id == first.purchase.id
    assert (again.points, again.balance) == (12, 12)
    assert balance(store, anna) == 12
    assert count(store, Purchase) == 1
    assert [(e.amount, e.reason, e.idempotency_key) for e in entries(store)] == [
        (12, "purchase", f"purchase:{first.purchase.id}")]


def test_purchase_entry_carries_tier_time_and_expiry(store):
    anna = plain_customer(store)
    booking = book(store, anna, "20.00", "k1")
    (entry,) = entries(store, anna)
    assert entry.purchase_id == booking.purchase.id
    assert entry.tier_at == NOW and entry.created_at == NOW
    assert entry.expires_at == NOW + EXPIRY


def test_no_expiry_date_when_points_never_expire(store):
    anna = plain_customer(store)
    book(store, anna, "20.00", "k1", rules=RULES.model_copy(update={"expiry_months": None}))
    assert entries(store, anna)[0].expires_at is None


def test_balance_is_the_sum_of_the_entries(store):
    anna = plain_customer(store)
    for i, amount in enumerate(("10.00", "33.30", "5.99", "70.00")):
        book(store, anna, amount, f"k{i}")
    redeemed = redeem(store, anna, "kaffee", "r1")
    ledger_sum = sum(e.amount for e in entries(store, anna))
    assert balance(store, anna) == ledger_sum == redeemed.balance
    # all four at the Bronze rate: the tier is decided before each purchase (48 < 100 before the last)
    assert ledger_sum == 10 + 33 + 5 + 70 - 40


def test_balance_of_a_customer_without_entries_is_zero(store):
    anna = plain_customer(store)
    assert balance(store, anna) == 0
    with store.session() as session:
        status = ledger.tier_status(session, anna, RULES, NOW)
    assert (status.tier.name, status.earned_in_window, status.next_tier.name, status.missing_for_next) == (
        "Bronze", 0, "Silber", 100)


def test_balances_never_include_another_customers_entries(store):
    anna, bernd, clara = plain_customer(store, "Anna"), plain_customer(store, "Bernd"), telegram_customer(store)
    book(store, anna, "10.00", "a1")
    book(store, bernd, "200.00", "b1")
    book(store, clara, "50.00", "c1")
    redeem(store, clara, "kaffee", "c-r1")
    assert (balance(store, anna), balance(store, bernd), balance(store, clara)) == (10, 200, 10)
    with store.session() as session:
        status = ledger.account_status(session, anna, RULES, NOW)
        assert status.balance == 10 and status.tier.earned_in_window == 10
        assert [e.amount for e in status.recent] == [10]
        assert [p.amount_cents for p in purchases.last_purchases(session, anna)] == [1000]
        assert rewards.open_redemptions(session, anna, NOW) == []


def test_unknown_customer_is_refused(store):
    with pytest.raises(ledger.UnknownCustomer):
        book(store, 999_999, "10.00", "nobody")
    assert count(store, Purchase) == 0


def test_tier_upgrade_queues_credit_and_upgrade_messages(store):
    anna = telegram_customer(store, 4242)
    first = book(store, anna, "90.00", "k1")
    assert not first.upgraded and first.tier.tier.name == "Bronze"
    rows = outbox_rows(store)
    credited = rows[f"purchase:{first.purchase.id}:credited"]
    assert set(rows) == {f"purchase:{first.purchase.id}:credited"}
    assert credited.chat_id == 4242 and credited.customer_id == anna and credited.category == "service"
    assert credited.payload["template"] == "loyalty.credited"
    assert credited.payload["params"] == {"points": 90, "amount": {"money_cents": 9000}, "balance": 90,
                                          "tier": _tier("Bronze"), "missing": 10, "next_tier": _tier("Silber")}

    second = book(store, anna, "15.00", "k2")
    assert second.upgraded and second.tier.tier.name == "Silber" and second.points == 15  # Bronze rate
    rows = outbox_rows(store)
    upgrade = rows[f"purchase:{second.purchase.id}:upgrade"]
    assert upgrade.payload["template"] == "loyalty.tier_upgrade"
    assert upgrade.payload["params"] == {"tier": _tier("Silber"), "multiplier": 1.25}
    assert rows[f"purchase:{second.purchase.id}:credited"].payload["params"]["next_tier"] == _tier("Gold")
    assert len(rows) == 3

    third = book(store, anna, "20.00", "k3")  # now at the Silber rate
    assert third.points == 25 and not third.upgraded
    again = book(store, anna, "15.00", "k2")  # a repeated booking queues nothing new
    assert again.duplicate and not again.upgraded
    assert len(outbox_rows(store)) == 4


def test_reaching_the_top_tier_says_so(store):
    anna = telegram_customer(store)
    booking = book(store, anna, "300.00", "big")
    assert booking.upgraded and booking.tier.tier.name == "Gold" and booking.tier.next_tier is None
    rows = outbox_rows(store)
    credited = rows[f"purchase:{booking.purchase.id}:credited"]
    assert credited.payload["template"] == "loyalty.credited_top_tier"
    assert "missing" not in credited.payload["params"]
    assert rows[f"purchase:{booking.purchase.id}:upgrade"].payload["params"]["tier"] == _tier("Gold")


def test_customers_without_telegram_get_no_messages(store):
    bernd = plain_customer(store)
    booking = book(store, bernd, "150.00", "k1")
    assert booking.upgraded
    with store.session() as session:
        purchases.reverse_purchase(session, booking.purchase.id, "Tippfehler", NOW, RULES)
    assert outbox_rows(store) == {}


def test_unreachable_customers_get_no_messages(store):
    anna = telegram_customer(store, 4242)
    with store.session() as session:
        customers.mark_unreachable(session, 4242, NOW)
    booking = book(store, anna, "150.00", "k1")
    assert booking.points == 150 and booking.upgraded
    assert outbox_rows(store) == {}


def test_tier_counts_only_purchases_in_the_window(store):
    anna = plain_customer(store)
    window = timedelta(days=365)
    book(store, anna, "60.00", "old", now=NOW - window - timedelta(seconds=1))  # just outside
    book(store, anna, "50.00", "edge", now=NOW - window)                        # exactly at the start
    with store.session() as session:
        status = ledger.tier_status(session, anna, RULES, NOW)
    assert status.earned_in_window == 50 and status.tier.name == "Bronze"
    with store.session() as session:  # a second later, the edge purchase has left the window too
        assert ledger.tier_status(session, anna, RULES, NOW + timedelta(seconds=1)).earned_in_window == 0
    assert balance(store, anna) == 110  # the points themselves are still there


def test_referral_and_reward_entries_do_not_count_for_the_tier(store):
    referrer = telegram_customer(store, 1, "Rita")
    friend = telegram_customer(store, 2, "Fritz")
    with store.session() as session:
        assert referrals.attach(session, friend, session.get(Customer, referrer).code, is_new=True) == "ok"
    book(store, referrer, "45.00", "r1")
    book(store, friend, "45.00", "f1")
    redeem(store, referrer, "kaffee", "x")
    with store.session() as session:
        assert ledger.tier_status(session, referrer, RULES, NOW).earned_in_window == 45
        assert ledger.tier_status(session, friend, RULES, NOW).earned_in_window == 45
    assert balance(store, referrer) == 45 + 50 - 40


def test_last_purchases_newest_first_with_reversals(store):
    anna = plain_customer(store)
    ids = [book(store, anna, f"{i + 1}.00", f"k{i}", now=NOW + i * DAY).purchase.id for i in range(7)]
    with store.session() as session:
        purchases.reverse_purchase(session, ids[5], "falsch", NOW + 8 * DAY, RULES)
    with store.session() as session:
        views = purchases.last_purchases(session, anna)
    assert [v.id for v in views] == ids[::-1][:5]
    assert [v.reversed for v in views] == [False, True, False, False, False]
    assert views[0].amount_cents == 700


# --- storno -----------------------------------------------------------------------------------

def test_storno_books_a_correction_once_and_tier_points_drop(store):
    anna = telegram_customer(store, 4242)
    small = book(store, anna, "30.00", "k1")
    big = book(store, anna, "80.00", "k2")
    assert big.upgraded and big.tier.tier.name == "Silber"
    later = NOW + timedelta(hours=2)
    with store.session() as session:
        reversal = purchases.reverse_purchase(session, big.purchase.id, "falscher Kunde", later, RULES)
    assert (reversal.points, reversal.balance) == (80, 30)
    with store.session() as session:
        with pytest.raises(purchases.ReversalError) as caught:
            purchases.reverse_purchase(session, big.purchase.id, "nochmal", later, RULES)
        assert caught.value.reason == "already_reversed"
        with pytest.raises(purchases.ReversalError) as caught:
            purchases.reverse_purchase(session, 999_999, "?", later, RULES)
        assert caught.value.reason == "unknown_purchase"
    assert balance(store, anna) == 30
    correction = entries(store, anna)[-1]
    assert (correction.amount, correction.reason, correction.idempotency_key) == (-80, "correction", f"storno:{big.purchase.id}")
    assert correction.tier_at == big.purchase.created_at and correction.note == "falscher Kunde"
    with store.session() as session:
        status = ledger.tier_status(session, anna, RULES, later)
        assert (status.earned_in_window, status.tier.name) == (30, "Bronze")
        reversed_purchase = session.get(Purchase, big.purchase.id)
        assert reversed_purchase.reversed_at == later and reversed_purchase.reversal_reason == "falscher Kunde"
        assert session.get(Purchase, small.purchase.id).reversed_at is None
    message = outbox_rows(store)[f"storno:{big.purchase.id}"]
    assert message.payload["template"] == "loyalty.reversed"
    assert message.payload["params"]["points"] == 80 and message.payload["params"]["balance"] == 30
    assert message.payload["params"]["date"] == {"date": "2026-11-22"}
    assert count(store, PointsEntry) == 3


def outbox_keys(store) -> dict[str, str]:
    with store.session() as session:
        return {row.idempotency_key: row.payload.get("template", "") for row in session.exec(select(OutboxMessage))}


def test_undo_at_the_counter_takes_a_fresh_booking_back_quietly_once_and_not_later(store):
    anna = telegram_customer(store, 4242)
    fresh = book(store, anna, "12.50", "k1")
    with store.session() as session:
        reversal = counter.undo_counter_booking(session, fresh.purchase.id, NOW + timedelta(minutes=1), RULES)
    assert (reversal.points, reversal.balance) == (12, 0) and balance(store, anna) == 0
    # Anna had not been told of the points yet: she is told nothing at all.
    keys = outbox_keys(store)
    assert f"purchase:{fresh.purchase.id}:credited" not in keys and f"storno:{fresh.purchase.id}" not in keys
    with store.session() as session, pytest.raises(counter.UndoRefusal) as caught:
        counter.undo_counter_booking(session, fresh.purchase.id, NOW + timedelta(minutes=2), RULES)
    assert caught.value.reason == "already_reversed"

    told = book(store, anna, "20.00", "k2")
    with store.session() as session:  # the points message went out already
        session.exec(select(OutboxMessage).where(
            OutboxMessage.idempotency_key == f"purchase:{told.purchase.id}:credited")).one().status = "sent"
        session.commit()
    with store.session() as session:
        counter.undo_counter_booking(session, told.purchase.id, NOW + timedelta(minutes=3), RULES)
    assert outbox_keys(store)[f"storno:{told.purchase.id}"] == "loyalty.undone"

    late = book(store, anna, "30.00", "k3")
    with store.session() as session, pytest.raises(counter.UndoRefusal) as caught:
        counter.undo_counter_booking(session, late.purchase.id, NOW + counter.UNDO_WINDOW + timedelta(seconds=1), RULES)
    assert caught.value.reason == "too_late" and balance(store, anna) == 30
    with store.session() as session, pytest.raises(counter.UndoRefusal) as caught:
        counter.undo_counter_booking(session, 999_999, NOW, RULES)
    assert caught.value.reason == "unknown"


def test_storno_after_spending_the_points_leaves_a_negative_balance(store):
    anna = plain_customer(store)
    booking = book(store, anna, "50.00", "k1")
    redeem(store, anna, "kaffee", "r1")
    with store.session() as session:
        assert purchases.reverse_purchase(session, booking.purchase.id, "Rückgabe", NOW, RULES).balance == -40
    assert redeem_error(store, anna, "kaffee", "r2").reason == "not_enough_points"
    book(store, anna, "45.00", "k2")
    assert balance(store, anna) == 5


def test_rebooking_a_reversed_purchase_key_is_still_a_duplicate(store):
    anna = plain_customer(store)
    booking = book(store, anna, "50.00", "k1")
    with store.session() as session:
        purchases.reverse_purchase(session, booking.purchase.id, "x", NOW, RULES)
    again = book(store, anna, "50.00", "k1")
    assert again.duplicate and again.balance == 0


# --- rewards ----------------------------------------------------------------------------------

def test_redeem_issues_a_code_and_reduces_the_balance(store):
    anna = plain_customer(store)
    book(store, anna, "100.00", "k1")
    redeemed = redeem(store, anna, "kuchen", "confirm-1")
    code = redeemed.redemption.code
    assert redeemed.balance == 40 == balance(store, anna)
    assert len(code) == codes.REWARD_CODE_LENGTH and set(code) <= set(codes.ALPHABET)
    assert (redeemed.redemption.reward_key, redeemed.redemption.reward_name, redeemed.redemption.cost) == (
        "kuchen", "Ein Stück Kuchen", 60)
    assert redeemed.redemption.expires_at == NOW + timedelta(days=30)
    entry = entries(store, anna)[-1]
    assert (entry.amount, entry.reason, entry.redemption_id, entry.idempotency_key) == (
        -60, "reward", redeemed.redemption.id, f"reward:{anna}:confirm-1")
    with store.session() as session:
        assert [r.code for r in rewards.open_redemptions(session, anna, NOW)] == [code]


def test_redeem_refuses_when_points_are_missing(store):
    anna = plain_customer(store)
    book(store, anna, "39.99", "k1")
    error = redeem_error(store, anna, "kaffee", "r1")
    assert error.reason == "not_enough_points"
    assert error.details == {"balance": 39, "cost": 40, "missing": 1}
    assert balance(store, anna) == 39 and count(store, Redemption) == 0


def test_redeem_with_exactly_enough_points(store):
    anna = plain_customer(store)
    book(store, anna, "40.00", "k1")
    assert redeem(store, anna, "kaffee", "r1").balance == 0


def test_redeem_refuses_unknown_rewards(store):
    anna = plain_customer(store)
    book(store, anna, "100.00", "k1")
    assert redeem_error(store, anna, "champagner", "r1").reason == "unknown_reward"
    assert redeem_error(store, anna, "kaffee", "r1", rules=RULES.model_copy(update={"rewards": ()})).reason == "unknown_reward"
    assert balance(store, anna) == 100


def test_same_request_twice_pays_once(store):
    anna = plain_customer(store)
    book(store, anna, "100.00", "k1")
    first = redeem(store, anna, "kaffee", "tap-1")
    assert redeem_error(store, anna, "kaffee", "tap-1").reason == "already_done"
    assert redeem_error(store, anna, "kuchen", "tap-1").reason == "already_done"
    assert balance(store, anna) == 60 and count(store, Redemption) == 1
    second = redeem(store, anna, "kaffee", "tap-2")  # a new confirmation is a new redemption
    assert second.balance == 20 and second.redemption.code != first.redemption.code


def test_request_ids_are_per_customer(store):
    anna, bernd = plain_customer(store, "Anna"), plain_customer(store, "Bernd")
    book(store, anna, "50.00", "a")
    book(store, bernd, "50.00", "b")
    redeem(store, anna, "kaffee", "1")
    assert redeem(store, bernd, "kaffee", "1").balance == 10


def test_a_code_is_used_once(store):
    anna = plain_customer(store, "Anna")
    book(store, anna, "100.00", "k1")
    code = redeem(store, anna, "kaffee", "r1").redemption.code
    later = NOW + DAY
    with store.session() as session:
        used = rewards.mark_used(session, codes.grouped(code).lower(), 77, later)
        customer_code = session.get(Customer, anna).code
    assert (used.customer_name, used.customer_code) == ("Anna", customer_code)
    assert used.redemption.used_at == later and used.redemption.used_by == 77
    again = use_error(store, code, later + DAY)
    assert (again.reason, again.used_at, again.reward_name) == ("already_used", later, "Ein Kaffee")
    with store.session() as session:
        assert session.exec(select(Redemption.used_by).where(Redemption.code == code)).one() == 77
    with store.session() as session:
        assert rewards.open_redemptions(session, anna, later) == []


def test_an_expired_code_cannot_be_used(store):
    anna = plain_customer(store)
    book(store, anna, "100.00", "k1")
    redemption = redeem(store, anna, "kaffee", "r1").redemption
    expired = use_error(store, redemption.code, redemption.expires_at)
    assert (expired.reason, expired.expires_at, expired.used_at) == ("expired", redemption.expires_at, None)
    assert use_error(store, redemption.code, redemption.expires_at + DAY).reason == "expired"
    with store.session() as session:
        assert session.get(Redemption, redemption.id).used_at is None
        rewards.mark_used(session, redemption.code, 7, redemption.expires_at - timedelta(seconds=1))  # just in time


@pytest.mark.parametrize("typed", ["", "ABC", "ABCD-EFGH-J", "OOOO0000", "IIII1111", "ÄÖÜ-ÄÖÜ!"])
def test_invalid_codes(store, typed):
    assert use_error(store, typed).reason == "invalid_code"


def test_unknown_code(store):
    error = use_error(store, "ABCD-EFGH")
    assert (error.reason, error.reward_name, error.used_at) == ("unknown_code", None, None)


# --- receipts ---------------------------------------------------------------------------------

def scan(store, customer_id, token, now=NOW) -> purchases.Booking:
    with store.session() as session:
        receipt = receipts.verify(SECRET, token, now)
        return receipts.redeem(session, customer_id, receipt, RULES, now)


def scan_error(store, customer_id, token, now=NOW) -> str:
    with pytest.raises(receipts.ReceiptError) as caught:
        scan(store, customer_id, token, now)
    return caught.value.reason


def test_a_receipt_credits_whoever_scans_it_first_once(store):
    anna, bernd = telegram_customer(store, 1, "Anna"), telegram_customer(store, 2, "Bernd")
    token = receipts.issue(SECRET, Decimal("23.40"), NOW, RULES.receipt_valid_minutes)
    booking = scan(store, anna, token)
    assert (booking.points, booking.balance, booking.purchase.source) == (23, 23, "receipt")
    assert booking.purchase.amount_cents == 2340
    assert scan_error(store, anna, token, NOW + timedelta(minutes=1)) == "already_yours"
    assert scan_error(store, bernd, token, NOW + timedelta(minutes=2)) == "already_used"
    assert (balance(store, anna), balance(store, bernd)) == (23, 0)
    with store.session() as session:
        (marker,) = session.exec(select(UsedReceipt)).all()
        assert (marker.customer_id, marker.purchase_id) == (anna, booking.purchase.id)
    assert count(store, Purchase) == 1
    assert f"purchase:{booking.purchase.id}:credited" in outbox_rows(store)


def test_two_receipts_are_two_purchases(store):
    anna = plain_customer(store)
    for amount in ("5.00", "5.00"):  # the same amount twice is still two receipts
        scan(store, anna, receipts.issue(SECRET, Decimal(amount), NOW, 60))
    assert balance(store, anna) == 10 and count(store, Purchase) == 2


def test_a_scan_that_fails_leaves_the_receipt_usable(store):
    anna = plain_customer(store)
    token = receipts.issue(SECRET, Decimal("10.00"), NOW, 60)
    with pytest.raises(RuntimeError):
        with store.session() as session:
            receipts.redeem(session, anna, receipts.verify(SECRET, token, NOW), RULES, NOW)
            raise RuntimeError("the bot crashed before the commit")
    assert count(store, UsedReceipt) == 0 and count(store, Purchase) == 0
    assert scan(store, anna, token).points == 10


# --- referrals --------------------------------------------------------------------------------

def code_of(store, customer_id) -> str:
    with store.session() as session:
        return session.get(Customer, customer_id).code


def attach(store, customer_id, code, is_new=True) -> str:
    with store.session() as session:
        return referrals.attach(session, customer_id, code, is_new)


def test_attach_outcomes(store):
    rita = telegram_customer(store, 1, "Rita")
    fritz = telegram_customer(store, 2, "Fritz")
    old = telegram_customer(store, 3, "Olga")
    rita_code = code_of(store, rita)
    assert attach(store, fritz, "ZZZZZZ") == "unknown_code"
    assert attach(store, rita, rita_code) == "self"
    assert attach(store, old, rita_code, is_new=False) == "not_new"
    assert attach(store, fritz, rita_code) == "ok"
    assert attach(store, fritz, code_of(store, old)) == "already"
    assert attach(store, fritz, rita_code) == "already"
    with store.session() as session:
        assert session.get(Customer, fritz).referred_by_id == rita
        assert session.get(Customer, old).referred_by_id is None
    with store.session() as session:
        assert referrals.payload_for(session.get(Customer, rita)) == "ref_" + rita_code


def test_referral_bonus_for_both_on_the_first_purchase_only(store):
    rita = telegram_customer(store, 1, "Rita")
    fritz = telegram_customer(store, 2, "Fritz")
    assert attach(store, fritz, code_of(store, rita)) == "ok"
    first = book(store, fritz, "10.00", "f1")
    assert first.points == 10 and first.balance == 60  # the bonus is in the balance shown
    assert (balance(store, fritz), balance(store, rita)) == (60, 50)
    referral_entries = [(e.customer_id, e.amount, e.idempotency_key) for e in entries(store) if e.reason == "referral"]
    assert referral_entries == [(fritz, 50, f"referral:{fritz}:new"), (rita, 50, f"referral:{fritz}:referrer")]
    rows = outbox_rows(store)
    assert rows[f"referral:{fritz}:{fritz}"].payload == {
        "template": "referral.bonus_new", "params": {"points": 50}, "text": None, "buttons": []}
    assert rows[f"referral:{fritz}:{rita}"].payload["params"] == {"points": 50, "friend": "Fritz"}
    assert rows[f"referral:{fritz}:{rita}"].chat_id == 1

    book(store, fritz, "10.00", "f2")
    book(store, fritz, "10.00", "f1")  # a repeat of the first booking
    assert (balance(store, fritz), balance(store, rita)) == (70, 50)
    assert len([e for e in entries(store) if e.reason == "referral"]) == 2


def test_referrer_purchases_bring_no_bonus(store):
    rita = telegram_customer(store, 1, "Rita")
    fritz = telegram_customer(store, 2, "Fritz")
    attach(store, fritz, code_of(store, rita))
    book(store, rita, "10.00", "r1")
    assert (balance(store, rita), balance(store, fritz)) == (10, 0)


def test_no_referral_bonus_when_switched_off(store):
    rita = telegram_customer(store, 1, "Rita")
    fritz = telegram_customer(store, 2, "Fritz")
    attach(store, fritz, code_of(store, rita))
    book(store, fritz, "10.00", "f1", rules=RULES.model_copy(update={"referral_bonus": 0}))
    assert (balance(store, fritz), balance(store, rita)) == (10, 0)
    assert not [e for e in entries(store) if e.reason == "referral"]
    assert not [k for k in outbox_rows(store) if k.startswith("referral:")]


def test_referral_bonus_for_a_referrer_without_telegram(store):
    rita = plain_customer(store, "Rita")
    fritz = telegram_customer(store, 2, "Fritz")
    assert attach(store, fritz, code_of(store, rita)) == "ok"
    book(store, fritz, "10.00", "f1")
    assert balance(store, rita) == 50
    assert not [k for k in outbox_rows(store) if k == f"referral:{fritz}:{rita}"]


# --- expiry and the account view --------------------------------------------------------------

def status(store, customer_id, now) -> ledger.AccountStatus:
    with store.session() as session:
        return ledger.account_status(session, customer_id, RULES, now)


def test_points_past_their_date_are_booked_as_expired_once(store):
    anna = plain_customer(store)
    book(store, anna, "100.00", "old")
    later = NOW + EXPIRY + DAY
    first = status(store, anna, later)
    second = status(store, anna, later + DAY)
    assert first.balance == second.balance == 0
    expiries = [e for e in entries(store, anna) if e.reason == "expiry"]
    assert [(e.amount, e.created_at) for e in expiries] == [(-100, later)]
    assert first.recent[0].reason == "expiry" and first.recent[0].amount == -100


def test_nothing_expires_a_moment_before_its_date(store):
    anna = plain_customer(store)
    book(store, anna, "100.00", "old")
    assert status(store, anna, NOW + EXPIRY - timedelta(seconds=1)).balance == 100
    assert not [e for e in entries(store, anna) if e.reason == "expiry"]
    assert status(store, anna, NOW + EXPIRY).balance == 0


def test_expiry_takes_the_oldest_points_and_only_what_is_left_of_them(store):
    anna = plain_customer(store)
    book(store, anna, "100.00", "jan")                        # 100, expire at NOW + 730 d
    redeem(store, anna, "kaffee", "r1", now=NOW + 30 * DAY)   # uses 40 of them
    book(store, anna, "30.00", "later", now=NOW + 600 * DAY)  # Bronze again by then: 30
    view = status(store, anna, NOW + EXPIRY + DAY)
    assert view.balance == 30
    assert [e.amount for e in entries(store, anna) if e.reason == "expiry"] == [-60]
    # the 30 later points expire 600 days after the first ones
    assert view.expiring_points == 0 and view.expiring_on is None
    warn = status(store, anna, NOW + 600 * DAY + EXPIRY - 10 * DAY)
    assert (warn.expiring_points, warn.expiring_on) == (30, NOW + 600 * DAY + EXPIRY)


def test_a_purchase_settles_due_expiries_before_crediting(store):
    anna = plain_customer(store)
    book(store, anna, "100.00", "old")
    booking = book(store, anna, "10.00", "new", now=NOW + EXPIRY + DAY)
    assert booking.balance == 10
    assert [e.reason for e in entries(store, anna)] == ["purchase", "expiry", "purchase"]


def test_expired_points_cannot_be_redeemed(store):
    anna = plain_customer(store)
    book(store, anna, "100.00", "old")
    error = redeem_error(store, anna, "kaffee", "r1", now=NOW + EXPIRY + DAY)
    assert error.reason == "not_enough_points" and error.details["balance"] == 0
    # the refusal rolled back, so the expiry is booked by the next change instead
    assert status(store, anna, NOW + EXPIRY + 2 * DAY).balance == 0
    assert len([e for e in entries(store, anna) if e.reason == "expiry"]) == 1


def test_a_referral_bonus_expires_like_other_points_and_only_once(store):
    """The referrer's bonus expires ``expiry_months`` after it was earned, before the points
    of a later purchase; each expiry is booked once."""
    rita = plain_customer(store, "Rita")
    fritz = telegram_customer(store, 2, "Fritz")
    attach(store, fritz, code_of(store, rita))
    book(store, fritz, "10.00", "f1")                       # Rita gets 50 now
    book(store, rita, "100.00", "r1", now=NOW + DAY)        # 100, expire a day after the bonus
    assert status(store, rita, NOW + EXPIRY + DAY / 2).balance == 100   # the bonus is gone
    assert status(store, rita, NOW + EXPIRY + DAY / 2).balance == 100   # and booked once
    assert status(store, rita, NOW + DAY + EXPIRY + DAY).balance == 0
    assert [e.amount for e in entries(store, rita) if e.reason == "expiry"] == [-50, -100]


def test_account_status_shows_everything_for_punkte(store):
    anna = telegram_customer(store, 4242, "Anna")
    for i in range(7):
        book(store, anna, "20.00", f"k{i}", now=NOW + i * DAY)
    redeem(store, anna, "kaffee", "r1", now=NOW + 8 * DAY)
    view = status(store, anna, NOW + 9 * DAY)
    assert (view.customer_id, view.first_name, view.code) == (anna, "Anna", code_of(store, anna))
    # 5 x 20 = 100 in Bronze reaches Silber; then 2 x 25
    assert view.balance == 100 + 50 - 40
    assert (view.tier.tier.name, view.tier.earned_in_window, view.tier.next_tier.name, view.tier.missing_for_next) == (
        "Silber", 150, "Gold", 150)
    assert [(e.amount, e.reason) for e in view.recent] == [(-40, "reward"), (25, "purchase"), (25, "purchase"),
                                                           (20, "purchase"), (20, "purchase")]
    assert view.recent[0].note == "Ein Kaffee"
    assert view.expiring_points == 0


# --- two requests at once ---------------------------------------------------------------------

def run_together(*jobs):
    """Start the jobs in threads at the same moment; return what each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def runner(index, job):
        try:
            barrier.wait(timeout=10)
            results[index] = job()
        except BaseException as error:  # noqa: BLE001 - collected and checked by the test
            results[index] = error

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


ROUNDS = 5  # each round is a fresh race; a missing lock shows up in one of them


def test_concurrent_redemptions_of_the_same_points_pay_once(store):
    for round_ in range(ROUNDS):
        anna = plain_customer(store, f"Anna{round_}")
        book(store, anna, "50.00", f"k{round_}")  # enough for one coffee (40), not two
        results = run_together(lambda: redeem(store, anna, "kaffee", "phone"),
                               lambda: redeem(store, anna, "kaffee", "laptop"))
        won = [r for r in results if isinstance(r, rewards.Redeemed)]
        lost = [r for r in results if isinstance(r, rewards.RedeemError)]
        assert len(won) == 1 and len(lost) == 1, results
        assert lost[0].reason == "not_enough_points" and lost[0].details["balance"] == 10
        assert won[0].balance == 10 == balance(store, anna)
        with store.session() as session:
            assert len(session.exec(select(Redemption).where(Redemption.customer_id == anna)).all()) == 1


def test_concurrent_double_tap_of_one_confirmation_pays_once(store):
    for round_ in range(ROUNDS):
        anna = plain_customer(store, f"Anna{round_}")
        book(store, anna, "200.00", f"k{round_}")  # enough for both: only the request id protects
        results = run_together(lambda: redeem(store, anna, "kaffee", "tap"),
                               lambda: redeem(store, anna, "kaffee", "tap"))
        won = [r for r in results if isinstance(r, rewards.Redeemed)]
        lost = [r for r in results if isinstance(r, rewards.RedeemError)]
        assert len(won) == 1 and [e.reason for e in lost] == ["already_done"], results
        assert balance(store, anna) == 160


def test_concurrent_bookings_with_one_key_credit_once(store):
    for round_ in range(ROUNDS):
        anna = telegram_customer(store, 100 + round_, f"Anna{round_}")
        key = f"staff:update:{round_}"
        results = run_together(lambda: book(store, anna, "25.00", key), lambda: book(store, anna, "25.00", key))
        assert all(isinstance(r, purchases.Booking) for r in results), results
        assert sorted(r.duplicate for r in results) == [False, True]
        assert {r.purchase.id for r in results} == {results[0].purchase.id}
        assert {(r.points, r.balance) for r in results} == {(25, 25)}
        with store.session() as session:
            assert len(session.exec(select(Purchase).where(Purchase.idempotency_key == key)).all()) == 1
        assert [(e.amount, e.reason) for e in entries(store, anna)] == [(25, "purchase")]
        assert len([k for k in outbox_rows(store) if k.startswith(f"purchase:{results[0].purchase.id}:")]) == 1


def test_concurrent_scans_of_one_receipt_credit_one_customer(store):
    for round_ in range(ROUNDS):
        anna = plain_customer(store, f"Anna{round_}")
        bernd = plain_customer(store, f"Bernd{round_}")
        token = receipts.issue(SECRET, Decimal("12.00"), NOW, 60)
        results = run_together(lambda: scan(store, anna, token), lambda: scan(store, bernd, token))
        won = [r for r in results if isinstance(r, purchases.Booking)]
        lost = [r for r in results if isinstance(r, receipts.ReceiptError)]
        assert len(won) == 1 and [e.reason for e in lost] == ["already_used"], results
        assert sorted((balance(store, anna), balance(store, bernd))) == [0, 12]


def test_concurrent_use_of_one_code_succeeds_once(store):
    for round_ in range(ROUNDS):
        anna = plain_customer(store, f"Anna{round_}")
        book(store, anna, "40.00", f"k{round_}")
        code = redeem(store, anna, "kaffee", "r").redemption.code

        def use(staff_id):
            with store.session() as session:
                return rewards.mark_used(session, code, staff_id, NOW)

        results = run_together(lambda: use(1), lambda: use(2))
        won = [r for r in results if isinstance(r, rewards.UsedCode)]
        lost = [r for r in results if isinstance(r, rewards.UseError)]
        assert len(won) == 1 and [e.reason for e in lost] == ["already_used"], results
        with store.session() as session:
            used = session.exec(select(Redemption).where(Redemption.code == code)).one()
        assert used.used_by == won[0].redemption.used_by
