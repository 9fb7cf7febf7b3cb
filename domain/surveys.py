"""NPS surveys on the database: scheduling after a purchase, recording the score and the
reason, and the report. (The bot's buttons and texts come with the rest of the feedback
feature; these use cases are what they will call.)

A survey is scheduled at most once per purchase (a unique purchase id) and at most once per
``min_days_between`` per customer, and only for customers who agreed to hear from the shop.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Text, case, cast, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from domain import conversation, customers, milestones, outbox
from domain.rules import nps, topics
from domain.clock import days_later_at
from domain.config import NpsSection, PostPurchaseMilestone
from domain.outbox import Button, MessageSpec
from storage.models import Customer, Survey
from domain.rules.errors import Refusal

SCHEDULED, ANSWERED, DONE = "scheduled", "answered", "done"
CALLBACK_PREFIX = "nps:"
# A typed "8" counts as the answer for a week after the question; later it is just a number.
OPEN_FOR = timedelta(days=7)


def due_time(purchased_at: datetime, rules: NpsSection, timezone_name: str) -> datetime:
    """``delay_days`` after the purchase, at ``send_hour`` local time (never at night)."""
    return days_later_at(purchased_at, rules.delay_days, rules.send_hour, timezone_name)


def schedule_after_purchase(session: Session, customer_id: int, purchase_id: int, purchased_at: datetime,
                            rules: NpsSection, timezone_name: str, now: datetime,
                            follow_up: PostPurchaseMilestone | None = None) -> Survey | None:
    """A survey for this purchase, unless the customer declined marketing, was asked recently,
    or this purchase already has one. Returns the new survey or None. ``follow_up`` is the
    post-purchase milestone (config ``milestones.post_purchase``): switched off, no survey;
    with its own text, that is the question."""
    if follow_up is not None and not follow_up.enabled:
        return None
    customer = session.get(Customer, customer_id)
    account = customers.chat_of(session, customer_id)
    if customer is None or not customer.marketing_consent or account is None:
        return None
    due = due_time(purchased_at, rules, timezone_name)
    recent = session.exec(
        select(Survey.id).where(Survey.customer_id == customer_id,
                                Survey.due_at > due - timedelta(days=rules.min_days_between))
    ).first()
    if recent is not None:
        return None
    survey = Survey(customer_id=customer_id, purchase_id=purchase_id, status=SCHEDULED, created_at=now, due_at=due)
    try:
        with session.begin_nested():  # the same purchase scheduled twice at once: one survey
            session.add(survey)
    except IntegrityError:
        return None
    own_text = follow_up.text if follow_up is not None else None
    outbox.enqueue(session, f"survey:{survey.id}", account.chat_id, question(survey.id, own_text, customer.first_name),
                   outbox.SERVICE, now, customer_id=customer_id, not_before=due)
    return survey


def forget_undone_purchase(session: Session, purchase_id: int) -> None:
    """A purchase booked by mistake and undone at once: its survey, still waiting, goes too
    (the corrected booking may schedule its own)."""
    survey = session.exec(select(Survey).where(Survey.purchase_id == purchase_id, Survey.status == SCHEDULED)).first()
    if survey is not None and outbox.withdraw(session, f"survey:{survey.id}"):
        session.delete(survey)


def question(survey_id: int, own_text: str | None = None, first_name: str = "") -> MessageSpec:
    """The question with a 0-10 keyboard; the buttons name the survey and the score. The
    owner's own wording (with {vorname}) replaces the text of the locale files."""
    rows = (tuple(range(0, 6)), tuple(range(6, 11)))
    buttons = tuple(tuple(Button("", callback=f"{CALLBACK_PREFIX}{survey_id}:{n}", text=str(n)) for n in row)
                    for row in rows)
    if own_text:
        return milestones.own_wording(own_text, {"vorname": first_name}, buttons=buttons)
    return MessageSpec("nps.question", buttons=buttons)


def open_survey(session: Session, customer_id: int, now: datetime) -> Survey | None:
    """The survey that was asked (due) in the last week and not answered yet, if any."""
    return session.exec(
        select(Survey).where(Survey.customer_id == customer_id, Survey.score.is_(None), Survey.due_at <= now,
                             Survey.due_at > now - OPEN_FOR)
        .order_by(Survey.due_at.desc()).limit(1)
    ).first()


class SurveyError(Refusal):
    """``reason``: unknown_survey, already_answered, not_asked_yet, bad_score."""


def _own_survey(session: Session, customer_id: int, survey_id: int) -> Survey:
    """The survey if it is this customer's; forged ids of other customers' surveys look unknown."""
    survey = session.get(Survey, survey_id)
    if survey is None or survey.customer_id != customer_id:
        raise SurveyError("unknown_survey")
    return survey


def record_score(session: Session, customer_id: int, survey_id: int, score: int, now: datetime) -> nps.Group:
    """The first score counts; a second tap or a changed mind later raises ``already_answered``."""
    if isinstance(score, bool) or not isinstance(score, int) or score not in nps.SCALE:
        raise SurveyError("bad_score")
    survey = _own_survey(session, customer_id, survey_id)
    if survey.score is not None:
        raise SurveyError("already_answered")
    if survey.due_at > now:
        raise SurveyError("not_asked_yet")
    survey.score, survey.answered_at, survey.status = score, now, ANSWERED
    session.add(survey)
    refresh_latest_scores(session, [customer_id])
    return nps.classify(score)


def refresh_latest_scores(session: Session, customer_ids: Iterable[int]) -> None:
    """Keep the score of each customer's latest answered survey (by answer time, then id) on
    the customer row, where the segment nps:<Gruppe> reads it. Called after every answer and
    after surveys moved to another customer."""
    session.flush()
    latest = (select(Survey.score).where(Survey.customer_id == Customer.id, Survey.score.is_not(None))
              .order_by(Survey.answered_at.desc(), Survey.id.desc()).limit(1).scalar_subquery())
    session.execute(update(Customer).where(Customer.id.in_(sorted(set(customer_ids)))).values(nps_score=latest)
                    .execution_options(synchronize_session=False))
    session.expire_all()


def answered(session: Session, customer_id: int, survey_id: int) -> Survey | None:
    """The customer's own survey once it has a score (None otherwise)."""
    try:
        survey = _own_survey(session, customer_id, survey_id)
    except SurveyError:
        return None
    return survey if survey.score is not None else None


def record_reason(session: Session, customer_id: int, survey_id: int, text: str | None,
                  lexicon: topics.Lexicon = topics.DEFAULT_LEXICON) -> tuple[str, ...]:
    """The optional "why" (None: skipped). Returns the topics it was tagged with."""
    survey = _own_survey(session, customer_id, survey_id)
    if survey.score is None:
        raise SurveyError("not_asked_yet")
    if survey.status == DONE:
        raise SurveyError("already_answered")
    reason = " ".join((text or "").split())[:1000] or None
    survey.reason = reason
    survey.topics = list(topics.tag_topics(reason)) if reason else []
    survey.status = DONE
    session.add(survey)
    return tuple(survey.topics)


@dataclass(frozen=True)
class Report:
    summary: nps.Summary
    trend: list[nps.TrendPoint]
    top_topics: list[tuple[str, int]]


_NO_TOPICS = ("[]", "null")


def report(session: Session, period: nps.Period, timezone_name: str) -> Report:
    """What /nps shows for a period: the score, its trend and the most frequent topics."""
    answered = (Survey.answered_at >= period.start, Survey.answered_at < period.end, Survey.score.is_not(None))
    # counted in the database per trend period and score: a large shop's month has tens of
    # thousands of answers, which read one by one were most of its report
    periods = nps.trend_periods(period.start, period.end, timezone_name, period.trend_by)
    per_period: dict[int, list[tuple[int, int]]] = {}
    for index, score, count in _answers_per_period(session, answered, [begins for _, begins in periods]):
        per_period.setdefault(index, []).append((score, count))
    # the topics as their JSON text, decoded only where there are any: most answers have none
    tagged = session.exec(select(cast(Survey.topics, Text)).where(*answered, Survey.topics.is_not(None),
                                                                  cast(Survey.topics, Text).not_in(_NO_TOPICS))).all()
    counted = Counter(topic for text in tagged for topic in json.loads(text) if topic != topics.OTHER)
    return Report(
        summary=nps.summarize_counts(pair for pairs in per_period.values() for pair in pairs),
        trend=nps.trend_points((day for day, _ in periods),
                               {periods[i][0]: nps.summarize_counts(pairs) for i, pairs in per_period.items() if periods},
                               period.trend_by),
        top_topics=counted.most_common(5),
    )


def _answers_per_period(session: Session, answered: tuple, beginnings: list[datetime]) -> list[tuple[int, int, int]]:
    """(period index, score, how many) of the answers; the periods begin at ``beginnings``."""
    if len(beginnings) < 2:
        return [(0, score, count) for score, count in session.exec(
            select(Survey.score, func.count()).where(*answered).group_by(Survey.score)).all()]
    which = case(*((Survey.answered_at < begins, i) for i, begins in enumerate(beginnings[1:])),
                 else_=len(beginnings) - 1)
    return session.exec(select(which, Survey.score, func.count()).where(*answered).group_by(which, Survey.score)).all()


def customers_with_topic(session: Session, topic: str, since: datetime) -> list[int]:
    """Who gave a reason with this topic (for "you said it, we changed it")."""
    rows = session.exec(select(Survey.customer_id, Survey.topics).where(Survey.answered_at >= since)).all()
    return sorted({customer_id for customer_id, tagged in rows if topic in (tagged or [])})


# --- what customers do -----------------------------------------------------------------------

REASON_STEP = "awaiting_nps_reason"


def answer_survey(session: Session, customer_id: int, survey_id: int, score: int, now: datetime) -> nps.Group:
    """A score (button or typed): recorded, and the customer's next text is the reason."""
    group = record_score(session, customer_id, survey_id, score, now)
    conversation.set_step(session, customer_id, REASON_STEP, now, {"survey": survey_id, "group": group.value,
                                                                    "score": score})
    return group


@dataclass(frozen=True)
class Reasoned:
    survey_id: int
    group: nps.Group
    customer: Customer  # for the follow-up (a promoter's referral link)


def give_reason(session: Session, customer_id: int, text: str | None, now: datetime,
                survey_id: int | None = None) -> Reasoned | None:
    """The reason after the score (None: skipped). ``survey_id`` is the survey a skip button
    names: it must be the one being asked about. None when there is no such question (any
    more): a double tap, an old button."""
    step = conversation.current_step(session, customer_id, now)
    if step is None or step.name != REASON_STEP or (survey_id is not None and step.data.get("survey") != survey_id):
        return None
    conversation.clear_step(session, customer_id)
    asked = int(step.data["survey"])
    record_reason(session, customer_id, asked, text)
    return Reasoned(asked, nps.Group(step.data["group"]), session.get(Customer, customer_id))
