"""Campaigns on SQLite and PostgreSQL: drafts confirmed once, runs that queue each recipient once,
recurring runs, coupons, personalization, the figures of /kampagnen and /abbrechen."""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select

from domain import campaigns, coupons, customers, marketing, outbox, purchases, segments
from domain.rules import when
from domain.config import load_config
from domain.rewards import UseError
from storage.models import Campaign, Coupon, Customer, OutboxMessage, TelegramAccount
from tests.use_cases.people import onboarded_customer

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # a Monday, 10:00 in Berlin
CONFIG = load_config(Path(__file__).resolve().parents[2] / "config.yml")  # Bronze, Silber 250, Gold 600
RULES = campaigns.rules_from(CONFIG)
OWNER_USER = 900001


def customer(store, user_id: int, consent_granted: bool = True, spent: list[int] = ()) -> int:
    customer_id = onboarded_customer(store, user_id, NOW - timedelta(days=100), consent_granted)
    for number, euros in enumerate(spent):
        with store.session() as session:
            purchases.book_purchase(session, customer_id, Decimal(euros), CONFIG.loyalty,
                                    NOW - timedelta(days=30 - number), f"test:{user_id}:{number}", purchases.COUNTER)
    return customer_id


def owner(store) -> int:
    return customer(store, OWNER_USER, consent_granted=False)


def draft(store, owner_id: int, segment: str = "alle", text: str = "Hallo {vorname}!",
          schedule: when.Schedule | None = None, photo: str | None = None) -> Campaign:
    with store.session() as session:
        campaign = campaigns.start(session, owner_id, OWNER_USER, segments.parse(segment, RULES.segments), schedule, NOW)
        campaigns.set_message(session, campaign.id, campaigns.read_message(text, photo is not None), photo)
        return campaign


@dataclass(frozen=True)
class Pressed:
    campaign: Campaign
    queued: int | None  # recipients queued after the button (a /broadcast), None for a planned campaign


def confirm(store, campaign: Campaign, owner_id: int, nonce: str | None = None, user: int = OWNER_USER,
            now: datetime = NOW) -> Pressed | None:
    """The confirm button as the handler runs it: the run starts, then its pages are queued."""
    with store.session() as session:
        confirmed = campaigns.confirm(session, campaign.id, nonce or campaign.nonce, user, owner_id, RULES, now)
    if confirmed is None:
        return None
    return Pressed(confirmed.campaign, queue_all(store, campaign.id, now) if confirmed.queuing else None)


def queue_all(store, campaign_id: int, now: datetime = NOW) -> int:
    """``queue_page`` until the run is queued, a transaction per page; the run's rows."""
    while True:
        with store.session() as session:
            page = campaigns.queue_page(session, campaign_id, RULES, now)
        if page.done:
            return page.total


def run_due(store, now: datetime) -> int:
    """As the timers do: start the due runs, then queue their pages; the rows queued."""
    with store.session() as session:
        campaigns.run_due(session, RULES, now)
    queued = 0
    while True:
        with store.session() as session:
            page = campaigns.queue_next_page(session, RULES, now)
        if page is None:
            return queued
        queued += page.queued


def rows(store, campaign_id: int | None = None) -> list[OutboxMessage]:
    with store.session() as session:
        query = select(OutboxMessage).where(OutboxMessage.category == outbox.MARKETING)
        if campaign_id is not None:
            query = query.where(OutboxMessage.campaign_id == campaign_id)
        return list(session.exec(query.order_by(OutboxMessage.customer_id)))


def test_a_broadcast_queues_one_row_per_reachable_recipient_with_consent(store):
    boss = owner(store)
    anna, ben, carla = customer(store, 1), customer(store, 2), customer(store, 3, consent_granted=False)
    dora = customer(store, 4)
    with store.session() as session:
        customers.mark_unreachable(session, 4, NOW)
    campaign = draft(store, boss)
    confirmed = confirm(store, campaign, boss)
    assert confirmed.queued == 2
    queued = rows(store, campaign.id)
    assert [r.customer_id for r in queued] == [anna, ben]
    assert {r.idempotency_key for r in queued} == {f"campaign:{campaign.id}:1:{anna}", f"campaign:{campaign.id}:1:{ben}"}
    assert carla not in [r.customer_id for r in queued] and dora not in [r.customer_id for r in queued]
    with store.session() as session:
        assert session.get(Campaign, campaign.id).status == campaigns.DONE


def test_confirm_works_once_and_only_for_the_owner_with_the_right_nonce(store):
    boss = owner(store)
    customer(store, 1)
    campaign = draft(store, boss)
    assert confirm(store, campaign, boss, nonce="000000000000") is None  # forged
    assert confirm(store, campaign, boss, user=12345) is None  # another admin's press
    assert confirm(store, campaign, boss).queued == 1
    assert confirm(store, campaign, boss) is None  # a second press
    assert len(rows(store)) == 1
    with store.session() as session:
        assert not campaigns.discard(session, campaign.id, campaign.nonce, OWNER_USER, boss, NOW)


def test_a_discarded_draft_sends_nothing(store):
    boss = owner(store)
    customer(store, 1)
    campaign = draft(store, boss)
    with store.session() as session:
        assert campaigns.discard(session, campaign.id, campaign.nonce, OWNER_USER, boss, NOW)
    assert confirm(store, campaign, boss) is None
    assert rows(store) == []


def test_a_planned_campaign_runs_once_when_due_and_picks_recipients_then(store):
    boss = owner(store)
    anna = customer(store, 1)
    at = NOW + timedelta(days=1)
    campaign = draft(store, boss, schedule=when.Schedule(at))
    assert confirm(store, campaign, boss).queued is None
    assert run_due(store, NOW + timedelta(hours=23)) == 0
    ben = customer(store, 2)  # joined before the run: gets it
    assert run_due(store, at) == 2
    assert run_due(store, at + timedelta(minutes=1)) == 0
    assert [r.customer_id for r in rows(store, campaign.id)] == [anna, ben]


def test_a_recurring_campaign_runs_every_week_and_each_run_reaches_everyone_again(store):
    boss = owner(store)
    anna = customer(store, 1)
    schedule = when.parse("jeden Montag 11:00", NOW, "Europe/Berlin")
    campaign = draft(store, boss, schedule=schedule)
    confirm(store, campaign, boss)
    first = schedule.first_run
    for week in range(3):
        assert run_due(store, first + timedelta(days=7 * week, minutes=1)) == 1
    keys = sorted(r.idempotency_key for r in rows(store, campaign.id))
    assert keys == [f"campaign:{campaign.id}:{run}:{anna}" for run in (1, 2, 3)]
    with store.session() as session:
        planned = session.get(Campaign, campaign.id)
        assert planned.status == campaigns.PLANNED and planned.runs == 3
        assert planned.next_run_at == first + timedelta(days=21)


def test_a_segment_is_applied_at_the_run(store):
    boss = owner(store)
    customer(store, 1, spent=[5])
    regular = customer(store, 2, spent=[5, 6, 7, 8])
    campaign = draft(store, boss, segment="stamm")
    assert confirm(store, campaign, boss).queued == 1
    assert [r.customer_id for r in rows(store, campaign.id)] == [regular]


def test_personal_params_fill_the_placeholders_with_todays_figures(store):
    boss = owner(store)
    anna = customer(store, 1, spent=[300])
    campaign = draft(store, boss, text="Hallo {vorname}, du hast {punkte} Punkte ({stufe}, bald {naechste_stufe}).")
    confirm(store, campaign, boss)
    row = rows(store, campaign.id)[0]
    with store.session() as session:
        params = campaigns.personal_params(session, anna, row.payload["params"], RULES, "de", NOW)
    assert params == {"body": "Hallo Anna, du hast 300 Punkte (Silber, bald Gold)."}


def test_a_coupon_campaign_gives_every_recipient_a_unique_code_redeemed_once(store):
    boss = owner(store)
    anna, ben = customer(store, 1), customer(store, 2)
    campaign = draft(store, boss, text="Hallo {vorname}, dein Code: {gutschein}\nGutschein (14 Tage): Ein Kaffee gratis")
    confirm(store, campaign, boss)
    with store.session() as session:
        issued = list(session.exec(select(Coupon).where(Coupon.campaign_id == campaign.id).order_by(Coupon.customer_id)))
    assert [c.customer_id for c in issued] == [anna, ben]
    assert len({c.code for c in issued}) == 2
    assert all(c.expires_at == NOW + timedelta(days=14) and c.offer == "Ein Kaffee gratis" for c in issued)
    row = rows(store, campaign.id)[0]
    with store.session() as session:
        params = campaigns.personal_params(session, anna, row.payload["params"], RULES, "de", NOW)
    code = issued[0].code
    assert params["body"] == f"Hallo Anna, dein Code: {code[:4]}-{code[4:]}"
    # the code as she reads it, a link that opens the bot with its QR code for the counter
    assert params["code"] == {"deep_link": f"code_{code}", "label": f"{code[:4]}-{code[4:]}"}
    assert params["offer"] == "Ein Kaffee gratis"
    with store.session() as session:
        used = coupons.redeem_any(session, code.lower(), 77, NOW + timedelta(days=1))
    assert (used.offer, used.customer_name) == ("Ein Kaffee gratis", "Anna")
    for typed, when_, reason in ((code, NOW, "already_used"), (issued[1].code, NOW + timedelta(days=15), "expired"),
                                 ("ZZZZ-ZZZZ", NOW, "unknown_code"), ("nope", NOW, "invalid_code")):
        with store.session() as session, pytest.raises(UseError) as error:
            coupons.redeem_any(session, typed, 77, when_)
        assert error.value.reason == reason


def test_a_run_reads_its_recipients_in_pages(store, monkeypatch):
    monkeypatch.setattr(campaigns, "QUEUE_PAGE", 2)  # five recipients: pages of 2, 2 and 1
    boss = owner(store)
    everyone = [customer(store, user_id) for user_id in range(1, 6)]
    campaign = draft(store, boss, text="Hallo {vorname}!\nGutschein: Ein Kaffee gratis")
    assert confirm(store, campaign, boss).queued == 5
    assert [r.customer_id for r in rows(store, campaign.id)] == everyone
    with store.session() as session:
        issued = session.exec(select(Coupon.customer_id).where(Coupon.campaign_id == campaign.id)).all()
    assert sorted(issued) == everyone


def test_overview_counts_sent_waiting_skipped_failed_unreachable_and_redeemed(store):
    boss = owner(store)
    ids = [customer(store, n) for n in range(1, 7)]
    campaign = draft(store, boss, text="Hi\nGutschein: Kaffee")
    confirm(store, campaign, boss)
    by_customer = {r.customer_id: r for r in rows(store, campaign.id)}
    with store.session() as session:
        outbox.mark_sent(session, by_customer[ids[0]].id, 1, NOW)
        outbox.mark_sent(session, by_customer[ids[1]].id, 2, NOW)
        outbox.mark_failed(session, by_customer[ids[2]].id, "unreachable: bot was blocked by the user")
        outbox.mark_failed(session, by_customer[ids[3]].id, "rejected: message is too long")
        session.get(OutboxMessage, by_customer[ids[4]].id).status = outbox.SKIPPED
        session.get(OutboxMessage, by_customer[ids[4]].id).last_error = "weekly_cap"
    with store.session() as session:
        code = session.exec(select(Coupon.code).where(Coupon.customer_id == ids[0])).one()
        coupons.mark_used(session, code, 77, NOW)
    with store.session() as session:
        [summary] = campaigns.overview(session)
    figures = summary.figures
    assert (figures.sent, figures.queued, figures.failed, figures.unreachable) == (2, 1, 1, 1)
    assert dict(figures.skipped) == {"weekly_cap": 1}
    assert (figures.coupons, figures.redeemed, figures.redemption_rate) == (6, 1, 0.5)


def test_cancel_stops_pending_rows_and_future_runs(store):
    boss = owner(store)
    ids = [customer(store, n) for n in range(1, 4)]
    schedule = when.parse("täglich 11:00", NOW, "Europe/Berlin")
    campaign = draft(store, boss, schedule=schedule)
    confirm(store, campaign, boss)
    run_due(store, schedule.first_run)
    first = rows(store, campaign.id)
    with store.session() as session:
        outbox.mark_sent(session, first[0].id, 1, NOW)
        claimed = outbox.claim_due(session, schedule.first_run, limit=1)  # being sent right now
    with store.session() as session:
        cancelled = campaigns.cancel(session, campaign.id, NOW)
    assert cancelled.stopped == 1
    with store.session() as session:  # the claimed row is skipped at send time
        assert marketing.admit(session, claimed[0].id, marketing.rules_from(CONFIG), NOW) is marketing.Verdict.SKIPPED
    assert run_due(store, schedule.first_run + timedelta(days=1)) == 0
    statuses = sorted((r.status, r.last_error) for r in rows(store, campaign.id))
    assert statuses == [("sent", None), ("skipped", "cancelled"), ("skipped", "cancelled")]
    for wrong in (campaign.id, 999):
        with store.session() as session, pytest.raises(campaigns.CampaignError) as error:
            campaigns.cancel(session, wrong, NOW)
        assert error.value.reason == ("finished" if wrong == campaign.id else "not_found")
    assert len(ids) == 3


def test_figures_on_the_customer_follow_purchases_and_reversals(store):
    anna = customer(store, 1, spent=[10, 20])
    with store.session() as session:
        row = session.get(Customer, anna)
        assert (row.purchase_count, row.revenue_cents) == (2, 3000)
        last = purchases.last_purchases(session, anna, 1)[0]
        purchases.reverse_purchase(session, last.id, "Tippfehler", NOW, CONFIG.loyalty)
    with store.session() as session:
        row = session.get(Customer, anna)
        assert (row.purchase_count, row.revenue_cents) == (1, 1000)
        assert row.first_purchase_at == row.last_purchase_at == NOW - timedelta(days=30)


def test_two_processes_checking_at_once_run_a_due_campaign_once(store):
    from tests.use_cases.test_loyalty import run_together

    boss = owner(store)
    recipients = [customer(store, n) for n in range(1, 6)]
    at = NOW + timedelta(hours=1)
    campaign = draft(store, boss, schedule=when.Schedule(at))
    confirm(store, campaign, boss)

    def check():
        with store.session() as session:
            return campaigns.run_due(session, RULES, at)

    results = run_together(check, check, check)
    assert sorted(results) == [0, 0, 1]  # one of them started the run ...

    def page():
        with store.session() as session:
            found = campaigns.queue_next_page(session, RULES, at)
            return 0 if found is None else found.queued

    while sum(run_together(page, page, page)):  # ... and all of them queue its pages
        pass
    assert len(rows(store, campaign.id)) == len(recipients)


# --- large runs: queued a page per transaction, outside the button's ----------------------------

def many_customers(store, count: int, first_user: int = 10_000) -> list[int]:
    """``count`` reachable customers with consent, written at once (no consent history needed here)."""
    with store.session() as session:
        people = [Customer(first_name=f"K{n}", marketing_consent=True, consent_asked=True, telegram_reachable=True,
                           created_at=NOW - timedelta(days=100), last_seen_at=NOW) for n in range(count)]
        session.add_all(people)
        session.flush()
        session.add_all([TelegramAccount(telegram_user_id=first_user + n, customer_id=person.id,
                                         chat_id=first_user + n) for n, person in enumerate(people)])
        return [person.id for person in people]


def test_the_button_only_starts_the_run_and_its_recipients_are_queued_in_pages(store):
    boss = owner(store)
    everyone = many_customers(store, 1200)
    campaign = draft(store, boss)
    with store.session() as session:
        confirmed = campaigns.confirm(session, campaign.id, campaign.nonce, OWNER_USER, boss, RULES, NOW)
    assert confirmed.queuing and confirmed.campaign.status == campaigns.QUEUING
    assert rows(store, campaign.id) == []  # nothing in the button's transaction
    pages = []
    while True:
        with store.session() as session:
            page = campaigns.queue_page(session, campaign.id, RULES, NOW)
        if page.done:
            break
        pages.append(page.queued)
    assert pages == [500, 500, 200] and page.total == 1200
    assert sorted(r.customer_id for r in rows(store, campaign.id)) == everyone
    with store.session() as session:
        done = session.get(Campaign, campaign.id)
        assert (done.status, done.queue_cursor, done.run_queued) == (campaigns.DONE, None, 1200)
    with store.session() as session:  # another page asked for (a replica, a late timer): nothing more
        assert campaigns.queue_page(session, campaign.id, RULES, NOW).done
        assert campaigns.queue_next_page(session, RULES, NOW) is None
    assert len(rows(store, campaign.id)) == 1200


def test_a_run_interrupted_halfway_resumes_and_queues_everyone_once(store, monkeypatch):
    monkeypatch.setattr(campaigns, "QUEUE_PAGE", 4)
    boss = owner(store)
    everyone = many_customers(store, 10)
    campaign = draft(store, boss, text="Hallo {vorname}!\nGutschein: Ein Kaffee gratis")
    with store.session() as session:
        campaigns.confirm(session, campaign.id, campaign.nonce, OWNER_USER, boss, RULES, NOW)
    with store.session() as session:
        assert campaigns.queue_page(session, campaign.id, RULES, NOW).queued == 4
    with pytest.raises(RuntimeError), store.session() as session:  # the process dies in the second page
        campaigns.queue_page(session, campaign.id, RULES, NOW)
        raise RuntimeError("killed")
    assert len(rows(store, campaign.id)) == 4
    # After the restart the timers resume the run after its last committed page.
    assert run_due(store, NOW + timedelta(minutes=1)) == 6

    def each_once():
        assert sorted(r.customer_id for r in rows(store, campaign.id)) == everyone
        with store.session() as session:
            issued = session.exec(select(Coupon.customer_id).where(Coupon.campaign_id == campaign.id)).all()
            assert sorted(issued) == everyone
            assert session.get(Campaign, campaign.id).status == campaigns.DONE

    each_once()
    with store.session() as session:  # even a run queued again from its start (a stale cursor) adds nobody
        again = session.get(Campaign, campaign.id)
        again.status, again.queue_cursor = campaigns.QUEUING, 0
    queue_all(store, campaign.id)
    each_once()


def test_two_processes_paging_the_same_run_queue_each_recipient_once(store, monkeypatch):
    from tests.use_cases.test_loyalty import run_together

    monkeypatch.setattr(campaigns, "QUEUE_PAGE", 7)
    boss = owner(store)
    everyone = many_customers(store, 60)
    campaign = draft(store, boss)
    with store.session() as session:
        campaigns.confirm(session, campaign.id, campaign.nonce, OWNER_USER, boss, RULES, NOW)

    def button():  # the owner's handler, page after page
        return queue_all(store, campaign.id)

    def timer():  # a replica's timer, picking up runs being queued
        return run_due(store, NOW)

    total, by_timer = run_together(button, timer)
    assert total == 60 and 0 <= by_timer <= 60
    assert sorted(r.customer_id for r in rows(store, campaign.id)) == everyone


def test_a_run_cancelled_while_it_is_queued_stops(store, monkeypatch):
    monkeypatch.setattr(campaigns, "QUEUE_PAGE", 3)
    boss = owner(store)
    many_customers(store, 9)
    campaign = draft(store, boss)
    with store.session() as session:
        campaigns.confirm(session, campaign.id, campaign.nonce, OWNER_USER, boss, RULES, NOW)
    with store.session() as session:
        campaigns.queue_page(session, campaign.id, RULES, NOW)
    with store.session() as session:
        assert [s.campaign.status for s in campaigns.overview(session)] == [campaigns.QUEUING]
        assert campaigns.cancel(session, campaign.id, NOW).stopped == 3
    assert queue_all(store, campaign.id) == 3 and len(rows(store, campaign.id)) == 3
