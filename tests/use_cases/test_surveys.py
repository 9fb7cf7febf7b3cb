"""NPS surveys on SQLite and PostgreSQL: scheduling rules, answers, reasons and the report."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from domain import surveys
from domain.rules import nps
from domain.config import NpsSection
from storage.models import Purchase
from tests.use_cases.people import onboarded_customer

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)  # a Monday afternoon
RULES = NpsSection(delay_days=3, send_hour=10, min_days_between=90)
TZ = "Europe/Berlin"


def customer(store, user_id: int, consent_granted: bool = True) -> int:
    return onboarded_customer(store, user_id, NOW, consent_granted)


def purchase(store, customer_id: int, at: datetime = NOW) -> int:
    with store.session() as session:
        row = Purchase(idempotency_key=f"p{at.isoformat()}{customer_id}", customer_id=customer_id,
                       amount_cents=450, source="counter", created_at=at)
        session.add(row)
        session.flush()
        return row.id


def schedule(store, customer_id: int, purchase_id: int, at: datetime = NOW):
    with store.session() as session:
        survey = surveys.schedule_after_purchase(session, customer_id, purchase_id, at, RULES, TZ, at)
        return survey.id if survey else None


def answer(store, customer_id, survey_id, score, now=NOW + timedelta(days=4)):
    with store.session() as session:
        return surveys.record_score(session, customer_id, survey_id, score, now)


def test_the_question_is_due_days_later_in_the_morning_local_time():
    due = surveys.due_time(datetime(2026, 10, 23, 21, 30, tzinfo=timezone.utc), RULES, TZ)  # Fri 23:30 in Berlin
    assert due.astimezone(ZoneInfo(TZ)) == datetime(2026, 10, 26, 10, 0, tzinfo=ZoneInfo(TZ))  # Mon, after DST


def test_one_survey_per_purchase_and_per_period_and_only_with_consent(store):
    anna, ben = customer(store, 1), customer(store, 2, consent_granted=False)
    first = purchase(store, anna)
    assert schedule(store, anna, first) is not None
    assert schedule(store, anna, first) is None                     # the same purchase again
    assert schedule(store, anna, purchase(store, anna, NOW + timedelta(days=30))) is None  # too soon
    assert schedule(store, anna, purchase(store, anna, NOW + timedelta(days=91)),
                    NOW + timedelta(days=91)) is not None            # the next period
    assert schedule(store, ben, purchase(store, ben)) is None        # no consent, no survey


def test_a_score_counts_once_and_only_for_the_own_survey(store):
    anna, ben = customer(store, 1), customer(store, 2)
    survey_id = schedule(store, anna, purchase(store, anna))
    with pytest.raises(surveys.SurveyError) as early:
        answer(store, anna, survey_id, 9, now=NOW)  # not asked yet
    assert early.value.reason == "not_asked_yet"
    for who, score, reason in ((ben, 10, "unknown_survey"), (anna, 11, "bad_score"), (anna, True, "bad_score")):
        with pytest.raises(surveys.SurveyError) as refused:
            answer(store, who, survey_id, score)
        assert refused.value.reason == reason
    assert answer(store, anna, survey_id, 4) == nps.Group.DETRACTOR
    with pytest.raises(surveys.SurveyError) as again:
        answer(store, anna, survey_id, 10)
    assert again.value.reason == "already_answered"


def test_reasons_are_tagged_and_the_report_counts_scores_and_topics(store):
    people = [customer(store, n) for n in range(1, 6)]
    scores = [10, 9, 7, 3, 6]
    reasons = ["Super freundliche Bedienung!", None, "Der Kaffee war lauwarm", "Viel zu teuer und unfreundlich",
               "Musste ewig warten"]
    for who, score, reason in zip(people, scores, reasons):
        survey_id = schedule(store, who, purchase(store, who))
        answer(store, who, survey_id, score)
        with store.session() as session:
            surveys.record_reason(session, who, survey_id, reason)
    period = nps.parse_period("30", NOW + timedelta(days=5), TZ)
    with store.session() as session:
        result = surveys.report(session, period, TZ)
        assert (result.summary.promoters, result.summary.passives, result.summary.detractors) == (2, 1, 2)
        assert result.summary.nps == 0
        assert dict(result.top_topics)["service"] == 2
        assert surveys.customers_with_topic(session, "preis", NOW) == [people[3]]
