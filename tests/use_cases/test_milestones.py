"""Milestones on SQLite and PostgreSQL: each occasion queues one message per customer and year
(or pause, or expiring day), a day is claimed once, missed days are caught up within
``catch_up_days``, gifts are booked once and only for customers who hear about them."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import select

from domain import coupons, customers, ledger, marketing, milestones, outbox, purchases, rewards, surveys
from domain.config import ShopConfig
from domain.consent import record_marketing_consent
from domain.customers import TelegramProfile
from storage.models import Coupon, Customer, JobRun, OutboxMessage, PointsEntry, Purchase
from tests.use_cases.at_once import at_once

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(timezone.utc)


NOW = berlin(2026, 5, 4, 10, 0)  # a Monday, at the send hour
CONFIG = ShopConfig.model_validate({"shop": {"name": "Kaffeehaus Morgenrot"}})


def rules(**settings) -> milestones.Rules:
    """The default milestones, with some occasions' settings changed."""
    section = CONFIG.milestones
    for name, values in settings.items():
        current = getattr(section, name)
        section = section.model_copy(update={name: current.model_copy(update=values) if isinstance(values, dict)
                                             else values})
    return milestones.rules_from(CONFIG.model_copy(update={"milestones": section}))


RULES = rules()


def customer(store, user_id: int, name: str = "Anna", consent: bool = True, birthday: tuple | None = None,
             reachable: bool = True, telegram: bool = True) -> int:
    with store.session() as session:
        if telegram:
            registered = customers.register(session, TelegramProfile(user_id, user_id, name), NOW - timedelta(days=900))
            customer_id = registered.customer.id
        else:
            row = Customer(first_name=name, created_at=NOW, last_seen_at=NOW)
            session.add(row)
            session.flush()
            customer_id = row.id
        if consent:
            record_marketing_consent(session, customer_id, True, "onboarding", NOW - timedelta(days=900))
        if birthday:
            customers.set_birthday(session, customer_id, *birthday)
        if not reachable:
            customers.mark_unreachable(session, user_id, NOW - timedelta(days=1))
    return customer_id


def buy(store, customer_id: int, at: datetime, euros: str = "10") -> int:
    with store.session() as session:
        booking = purchases.book_purchase(session, customer_id, Decimal(euros), CONFIG.loyalty, at,
                                          key=f"buy:{customer_id}:{at.isoformat()}", source=purchases.COUNTER)
        return booking.purchase.id


def run(store, now: datetime = NOW, rules_: milestones.Rules = RULES) -> int:
    with store.session() as session:
        return milestones.run_daily(session, rules_, now)


def done_until(store, day) -> None:
    """As if the daily scan last ran on ``day``."""
    with store.session() as session:
        session.merge(JobRun(name=milestones.JOB, last_run_on=day, last_run_at=NOW))


def greetings(store) -> list[OutboxMessage]:
    with store.session() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key.startswith("milestone:"))
                            .order_by(OutboxMessage.id)).all()
        session.expunge_all()
        return list(rows)


def keys(store) -> list[str]:
    return [row.idempotency_key for row in greetings(store)]


def gifts(store, customer_id: int) -> list[int]:
    with store.session() as session:
        return list(session.exec(select(PointsEntry.amount).where(PointsEntry.customer_id == customer_id,
                                                                  PointsEntry.reason == ledger.GIFT)))


# --- birthday -----------------------------------------------------------------------------------

def test_a_birthday_queues_one_greeting_and_books_the_gift_once(store):
    anna = customer(store, 1, birthday=(4, 5, 1990))
    customer(store, 2, "Ben", birthday=(5, 5, None))  # tomorrow
    assert run(store) == 1
    (row,) = greetings(store)
    assert row.idempotency_key == f"milestone:birthday:2026:{anna}"
    assert (row.category, row.customer_id, row.chat_id, row.not_before) == (outbox.MARKETING, anna, 1, NOW)
    assert row.payload["template"] == "milestones.marketing"
    body = row.payload["params"]["body"]
    assert body["text_key"] == "milestones.with_gift"
    assert body["params"]["greeting"] == {"text_key": "milestones.birthday", "params": {"name": "Anna"}}
    assert body["params"]["gift"]["text_keys"] == [{"text_key": "milestones.gift_points", "params": {"points": 50}}]
    assert gifts(store, anna) == [50]
    with store.session() as session:
        assert ledger.balance(session, anna) == 50
    # Again the same day, later that day, or after a restart: nothing more.
    assert run(store) == 0
    assert run(store, NOW + timedelta(hours=5)) == 0
    assert len(greetings(store)) == 1 and gifts(store, anna) == [50]


def test_the_scan_waits_for_the_send_hour(store):
    customer(store, 1, birthday=(4, 5, None))
    done_until(store, NOW.date() - timedelta(days=1))
    assert run(store, berlin(2026, 5, 4, 9, 59)) == 0
    assert run(store, berlin(2026, 5, 4, 10, 0)) == 1


def test_the_finding_is_read_only_and_is_what_the_run_queues(store):
    anna = customer(store, 1, birthday=(4, 5, None))
    with store.session() as session:
        due = milestones.find_due(session, RULES, NOW)
    assert [(d.occasion, d.customer_id, d.on, d.key) for d in due] == [
        ("birthday", anna, NOW.date(), f"milestone:birthday:2026:{anna}")]
    with store.session() as session:
        assert session.get(JobRun, milestones.JOB) is None
    assert greetings(store) == [] and gifts(store, anna) == []
    assert run(store) == 1 and keys(store) == [due[0].key]
    with store.session() as session:
        assert milestones.find_due(session, RULES, NOW) == []  # the day is done


def test_a_coupon_gift_is_issued_once_and_named_in_the_greeting(store):
    anna = customer(store, 1, birthday=(4, 5, None))
    with_coupon = rules(birthday={"gift_points": 0, "coupon_offer": "Ein Stück Kuchen", "coupon_valid_days": 14})
    assert run(store, rules_=with_coupon) == 1
    with store.session() as session:
        (coupon,) = session.exec(select(Coupon).where(Coupon.customer_id == anna)).all()
    assert coupon.occasion == f"birthday:2026:{anna}" and coupon.offer == "Ein Stück Kuchen"
    assert coupon.expires_at == NOW + timedelta(days=14)
    (gift,) = greetings(store)[0].payload["params"]["body"]["params"]["gift"]["text_keys"]
    assert gift == {"text_key": "milestones.gift_coupon", "params": {
        "offer": "Ein Stück Kuchen", "code": {"deep_link": f"code_{coupon.code}", "label": coupon.code[:4] + "-" + coupon.code[4:]},
        "valid_until": {"date": "2026-05-18"}}}
    assert gifts(store, anna) == []


def test_29_february_is_celebrated_on_the_28th_in_common_years(store):
    leap = customer(store, 1, birthday=(29, 2, 2000))
    assert run(store, berlin(2027, 2, 28, 10, 0)) == 1
    assert keys(store) == [f"milestone:birthday:2027:{leap}"]
    assert run(store, berlin(2027, 3, 1, 10, 0)) == 0
    done_until(store, berlin(2028, 2, 27, 12).date())
    assert run(store, berlin(2028, 2, 28, 10, 0)) == 0  # a leap year: on the 29th
    assert run(store, berlin(2028, 2, 29, 10, 0)) == 1
    assert keys(store)[-1] == f"milestone:birthday:2028:{leap}"


def test_greetings_and_gifts_only_for_customers_who_will_get_them(store):
    anna = customer(store, 1, "Anna", birthday=(4, 5, None))
    ben = customer(store, 2, "Ben", consent=False, birthday=(4, 5, None))
    carl = customer(store, 3, "Carl", reachable=False, birthday=(4, 5, None))
    dora = customer(store, 4, "Dora", telegram=False, birthday=(4, 5, None))  # imported, no Telegram yet
    assert run(store) == 1
    assert [row.customer_id for row in greetings(store)] == [anna]
    assert all(gifts(store, who) == [] for who in (ben, carl, dora))


def withdrawn_before_sending(store, customer_id: int, at: datetime = NOW) -> OutboxMessage:
    """The customer says /stop after the scan; the dispatcher then skips the greeting."""
    with store.session() as session:
        record_marketing_consent(session, customer_id, False, "command", at)
    row = next(row for row in greetings(store) if row.customer_id == customer_id)
    with store.session() as session:
        assert marketing.admit(session, row.id, marketing.rules_from(CONFIG), at) is marketing.Verdict.SKIPPED
    return row


def take_back(store, row_id: int, at: datetime = NOW) -> bool:
    with store.session() as session:
        return milestones.take_back_undelivered_gift(session, row_id, at)


def test_a_skipped_greeting_takes_its_points_and_coupon_back_once(store):
    anna = customer(store, 1, birthday=(4, 5, None))
    run(store, rules_=rules(birthday={"gift_points": 50, "coupon_offer": "Ein Stück Kuchen"}))
    row = withdrawn_before_sending(store, anna)
    later = NOW + timedelta(minutes=1)
    assert take_back(store, row.id, later) is True
    assert take_back(store, row.id, later) is False  # once
    with store.session() as session:
        assert ledger.balance(session, anna) == 0
        reversal = session.exec(select(PointsEntry).where(PointsEntry.amount < 0)).one()
        assert (reversal.reason, reversal.idempotency_key) == (ledger.CORRECTION, f"{row.idempotency_key}:undelivered")
        (coupon,) = session.exec(select(Coupon).where(Coupon.customer_id == anna)).all()
        assert coupon.expires_at == later
        assert coupons.find(session, coupon.code) is not None
        code = coupon.code
    with store.session() as session:
        try:
            coupons.mark_used(session, code, 99, later)
        except rewards.UseError as error:
            assert error.reason == "expired"
        else:
            raise AssertionError("the coupon of an undelivered greeting was accepted")


def test_points_spent_meanwhile_are_taken_back_only_as_far_as_the_balance_holds(store):
    anna = customer(store, 1, birthday=(4, 5, None))
    run(store)  # 50 points
    with store.session() as session:
        ledger.lock(session, anna)
        ledger.add_entry(session, anna, -30, ledger.REWARD, "spent", NOW)
    row = withdrawn_before_sending(store, anna)
    assert take_back(store, row.id) is True
    with store.session() as session:
        assert ledger.balance(session, anna) == 0
        assert sorted(session.exec(select(PointsEntry.amount).where(PointsEntry.customer_id == anna))) == [-30, -20, 50]


def test_a_redeemed_coupon_stays_redeemed_and_a_sent_or_waiting_greeting_keeps_its_gift(store):
    anna = customer(store, 1, birthday=(4, 5, None))
    ben = customer(store, 2, "Ben", birthday=(4, 5, None))
    run(store, rules_=rules(birthday={"gift_points": 0, "coupon_offer": "Ein Stück Kuchen"}))
    with store.session() as session:
        code = session.exec(select(Coupon.code).where(Coupon.customer_id == anna)).one()
        coupons.mark_used(session, code, 99, NOW)
    row = withdrawn_before_sending(store, anna)
    assert take_back(store, row.id) is False
    with store.session() as session:
        assert session.exec(select(Coupon).where(Coupon.customer_id == anna)).one().expires_at > NOW
    bens = next(r for r in greetings(store) if r.customer_id == ben)
    assert take_back(store, bens.id) is False  # still pending
    with store.session() as session:
        outbox.mark_sent(session, bens.id, 7, NOW)
    assert take_back(store, bens.id) is False
    with store.session() as session:
        assert session.exec(select(Coupon).where(Coupon.customer_id == ben)).one().expires_at > NOW


def test_only_greetings_give_gifts_back(store):
    anna = customer(store, 1)
    with store.session() as session:
        row = outbox.enqueue(session, "campaign:1:1:1", 1, outbox.MessageSpec(text="Hallo"), outbox.MARKETING,
                             NOW, customer_id=anna)
        session.flush()
        outbox.mark_failed(session, row.id, "rejected")
        row_id = row.id
    assert take_back(store, row_id) is False


# --- catch-up -----------------------------------------------------------------------------------

def test_missed_days_are_caught_up_but_not_older_than_catch_up_days(store):
    done_until(store, berlin(2026, 4, 25, 12).date())  # then the bot was down for a week
    customer(store, 1, "Anna", birthday=(28, 4, None))   # six days ago: too old
    ben = customer(store, 2, "Ben", birthday=(1, 5, None))    # three days ago: caught up
    carl = customer(store, 3, "Carl", birthday=(4, 5, None))  # today
    assert run(store) == 2
    assert keys(store) == [f"milestone:birthday:2026:{ben}", f"milestone:birthday:2026:{carl}"]
    with store.session() as session:
        assert session.get(JobRun, milestones.JOB).last_run_on == NOW.date()


def test_a_catch_up_early_in_the_morning_sends_at_the_send_hour(store):
    done_until(store, berlin(2026, 5, 2, 12).date())
    customer(store, 1, birthday=(3, 5, None))  # yesterday, while the bot was down
    assert run(store, berlin(2026, 5, 4, 3, 0)) == 1
    assert greetings(store)[0].not_before == berlin(2026, 5, 4, 10, 0)


def test_the_catch_up_window_crosses_the_year_end(store):
    done_until(store, berlin(2026, 12, 29, 12).date())
    old_year = customer(store, 1, "Anna", birthday=(31, 12, None))
    new_year = customer(store, 2, "Ben", birthday=(1, 1, None))
    assert run(store, berlin(2027, 1, 1, 11, 0)) == 2
    assert keys(store) == [f"milestone:birthday:2026:{old_year}", f"milestone:birthday:2027:{new_year}"]


def test_two_processes_claiming_the_same_day_queue_once(store):
    for user_id in range(1, 6):
        customer(store, user_id, f"Kunde{user_id}", birthday=(4, 5, None))
    done_until(store, NOW.date() - timedelta(days=1))
    results = at_once(lambda: run(store))
    assert sorted(results) == [0, 5]
    assert len(greetings(store)) == 5


# --- anniversary --------------------------------------------------------------------------------

def test_the_anniversary_of_the_first_purchase_counts_the_years_in_shop_time(store):
    anna = customer(store, 1, "Anna")
    ben = customer(store, 2, "Ben")
    carl = customer(store, 3, "Carl")
    dora = customer(store, 4, "Dora")
    buy(store, anna, berlin(2024, 5, 4, 0, 30))   # 22:30 UTC the day before: still the 4th in Berlin
    buy(store, anna, berlin(2025, 5, 4, 12, 0))   # a later purchase changes nothing
    buy(store, ben, berlin(2025, 5, 4, 9, 0))
    buy(store, carl, berlin(2025, 5, 3, 23, 59))  # the 3rd
    buy(store, dora, berlin(2026, 5, 4, 8, 0))    # this morning: no anniversary yet
    gift = rules(anniversary={"gift_points": 25}, win_back={"enabled": False}, expiry_warning={"enabled": False})
    assert run(store, rules_=gift) == 2
    rows = {row.customer_id: row for row in greetings(store)}
    assert set(rows) == {anna, ben}
    assert rows[anna].idempotency_key == f"milestone:anniversary:2026:{anna}"
    greeting = rows[anna].payload["params"]["body"]["params"]["greeting"]
    assert greeting["params"]["years"] == {"text_key": "milestones.years", "params": {"count": 2}}
    assert rows[ben].payload["params"]["body"]["params"]["greeting"]["params"]["years"] == {
        "text_key": "milestones.one_year", "params": {}}
    assert gifts(store, anna) == [25] and gifts(store, ben) == [25]
    assert run(store, rules_=gift) == 0


def test_an_anniversary_without_gift_has_no_gift_line(store):
    anna = customer(store, 1)
    buy(store, anna, berlin(2025, 5, 4, 12, 0))
    assert run(store, rules_=rules(win_back={"enabled": False}, expiry_warning={"enabled": False})) == 1
    (row,) = greetings(store)
    assert row.payload["params"]["body"]["text_key"] == "milestones.anniversary"
    assert gifts(store, anna) == []


# --- win-back -----------------------------------------------------------------------------------

def test_win_back_once_per_pause_and_again_after_the_next_pause(store):
    anna = customer(store, 1)
    only = rules(anniversary={"enabled": False}, expiry_warning={"enabled": False},
                 win_back={"after_days": 60, "coupon_offer": "10 % auf alles"})
    buy(store, anna, berlin(2026, 3, 5, 16, 0))   # 60 days before 4 May
    assert run(store, rules_=only) == 1
    assert keys(store) == [f"milestone:win_back:2026-03-05:{anna}"]
    assert run(store, berlin(2026, 5, 5, 10, 0), only) == 0  # still away: no second "we miss you"
    assert run(store, berlin(2026, 5, 20, 10, 0), only) == 0
    buy(store, anna, berlin(2026, 5, 21, 9, 0))    # back, then away again
    done_until(store, berlin(2026, 7, 18, 12).date())
    assert run(store, berlin(2026, 7, 20, 10, 0), only) == 1
    assert keys(store)[-1] == f"milestone:win_back:2026-05-21:{anna}"
    with store.session() as session:
        assert len(session.exec(select(Coupon).where(Coupon.customer_id == anna)).all()) == 2


def test_a_reversed_last_purchase_does_not_count(store):
    anna = customer(store, 1)
    only = rules(anniversary={"enabled": False}, expiry_warning={"enabled": False})
    buy(store, anna, berlin(2026, 3, 5, 16, 0))
    last = buy(store, anna, berlin(2026, 4, 1, 16, 0))
    with store.session() as session:
        purchases.reverse_purchase(session, last, "Tippfehler", berlin(2026, 4, 1, 16, 5), CONFIG.loyalty)
        assert session.get(Purchase, last).reversed_at is not None
    assert run(store, rules_=only) == 1  # the last real purchase was 60 days ago


# --- expiry warning -----------------------------------------------------------------------------

def test_expiring_points_are_announced_to_every_reachable_customer_once(store):
    anna = customer(store, 1, "Anna")
    ben = customer(store, 2, "Ben", consent=False)  # no offers, but it is about his own points
    carl = customer(store, 3, "Carl")
    earned = berlin(2024, 6, 3, 12, 0)  # expire 730 days later, on 3 June 2026: 30 days ahead
    for who in (anna, ben, carl):
        buy(store, who, earned, "10")
    buy(store, anna, berlin(2025, 1, 10, 12, 0), "20")  # expires later
    with store.session() as session:
        ledger.add_entry(session, ben, -4, ledger.REWARD, "spent-ben", berlin(2025, 3, 1, 12))  # uses the oldest first
        ledger.add_entry(session, carl, -10, ledger.REWARD, "spent-carl", berlin(2025, 3, 1, 12))
    only = rules(anniversary={"enabled": False}, win_back={"enabled": False})
    assert run(store, rules_=only) == 2
    rows = {row.customer_id: row for row in greetings(store)}
    assert set(rows) == {anna, ben}  # Carl spent his
    assert rows[anna].idempotency_key == f"milestone:expiry_warning:2026-06-03:{anna}"
    assert rows[anna].category == outbox.SERVICE
    assert rows[anna].payload == {"template": "milestones.expiry_warning", "params": {
        "name": "Anna", "points": 10, "date": {"date": "2026-06-03"}}, "text": None, "buttons": []}
    assert rows[ben].payload["params"]["points"] == 6
    # The same figure /punkte shows as "expiring soon".
    with store.session() as session:
        status = ledger.account_status(session, ben, CONFIG.loyalty, berlin(2026, 5, 4, 12, 0))
        assert status.expiring_points == 6
    assert run(store, berlin(2026, 5, 5, 10, 0), only) == 0


def test_an_unreachable_customer_gets_no_expiry_warning(store):
    anna = customer(store, 1, reachable=False)
    buy(store, anna, berlin(2024, 6, 3, 12, 0))
    assert run(store, rules_=rules(anniversary={"enabled": False}, win_back={"enabled": False})) == 0


# --- switches and wording -----------------------------------------------------------------------

def test_disabled_occasions_send_nothing(store):
    anna = customer(store, 1, birthday=(4, 5, None))
    buy(store, anna, berlin(2025, 5, 4, 12, 0))  # a year ago today
    buy(store, anna, berlin(2026, 3, 5, 12, 0))  # 60 days ago
    ben = customer(store, 2, "Ben")
    buy(store, ben, berlin(2024, 6, 3, 12, 0))  # expires in 30 days
    off = rules(**{name: {"enabled": False} for name in milestones.OCCASIONS})
    with store.session() as session:
        assert {d.occasion for d in milestones.find_due(session, RULES, NOW)} == set(milestones.OCCASIONS)
    assert run(store, rules_=off) == 0
    assert greetings(store) == [] and gifts(store, anna) == [] and gifts(store, ben) == []


def test_the_owners_own_wording_replaces_the_texts(store):
    anna = customer(store, 1, "Anna", birthday=(4, 5, None))
    own = rules(birthday={"text": "Hoch soll {vorname} leben! {punkte} Punkte liegen für dich bereit."})
    assert run(store, rules_=own) == 1
    (row,) = greetings(store)
    assert row.payload["params"]["body"] == {"text_key": "milestones.own_text", "params": {
        "text": "Hoch soll Anna leben! 50 Punkte liegen für dich bereit."}}
    assert gifts(store, anna) == [50]


def test_post_purchase_off_schedules_no_survey_and_its_own_text_is_the_question(store):
    anna = customer(store, 1, "Anna")
    first, second = buy(store, anna, NOW), buy(store, anna, NOW + timedelta(days=100))
    settings = CONFIG.milestones.post_purchase
    with store.session() as session:
        assert surveys.schedule_after_purchase(session, anna, first, NOW, CONFIG.nps, "Europe/Berlin", NOW,
                                               settings.model_copy(update={"enabled": False})) is None
        worded = settings.model_copy(update={"text": "{vorname}, würdest du uns weiterempfehlen?"})
        survey = surveys.schedule_after_purchase(session, anna, second, NOW + timedelta(days=100), CONFIG.nps,
                                                 "Europe/Berlin", NOW + timedelta(days=100), worded)
        row = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == f"survey:{survey.id}")).one()
    assert row.payload["template"] == "milestones.own_text"
    assert row.payload["params"] == {"text": "Anna, würdest du uns weiterempfehlen?"}
    assert len(row.payload["buttons"]) == 2  # the 0-10 keyboard stays
