"""Milestones: the greetings of special days, queued once a day at ``milestones.send_hour``.

- birthday (29 February in a common year: on the 28th), with points and/or a coupon as a gift;
- the anniversary of the first purchase, from one year on ("2 Jahre"), maybe with points;
- win-back: "we miss you" ``after_days`` after the last purchase, once per such pause;
- expiry warning: points that expire in ``days_before`` days.

(The fifth milestone, the follow-up after a purchase, is the NPS question of
``domain.surveys``; ``milestones.post_purchase`` switches it and may reword it.)

A day is scanned once: ``run_daily`` claims it by moving ``JobRun.last_run_on`` forward in one
conditional UPDATE, so of two bot processes on one database only one scans, and a restart
knows which days are done. A day the bot was down is scanned at the next run, at most
``catch_up_days`` back; the very first run scans its own day only. Every message has an
idempotency key naming the occasion, its year (or the date that makes it unique) and the
customer, and a gift is booked with the same key, so nothing is ever sent or given twice.

The scan is a few indexed queries per occasion (birthday (month, day), first and last purchase,
points' expiry) that read only the customers due, never all of them.

Gifts go only to customers who will get the message: with a reachable Telegram account and,
for the marketing occasions, with marketing consent (a gift nobody hears about only confuses).
The dispatcher checks consent, quiet hours and the weekly cap again at send time; a greeting it
skips or gives up on takes its gift back (``take_back_undelivered_gift``).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal
from sqlalchemy import and_, case, func, or_, update
from sqlmodel import Session, select

from domain import coupons, daily_jobs, ledger, outbox
from domain.rules import codes, loyalty
from domain.config import LoyaltySection, MilestonesSection, ShopConfig
from domain.outbox import MessageSpec
from storage.models import Coupon, Customer, OutboxMessage, PointsEntry, TelegramAccount

BIRTHDAY, ANNIVERSARY, WIN_BACK, EXPIRY_WARNING = "birthday", "anniversary", "win_back", "expiry_warning"
OCCASIONS = (BIRTHDAY, ANNIVERSARY, WIN_BACK, EXPIRY_WARNING)
# Greetings are advertising: they need consent and wait for allowed sending times. The expiry
# warning is a service message: it tells customers about their own points before they lose
# them (like a statement of account), so it goes to everyone reachable, /stop or not.
CATEGORY = {BIRTHDAY: outbox.MARKETING, ANNIVERSARY: outbox.MARKETING, WIN_BACK: outbox.MARKETING,
            EXPIRY_WARNING: outbox.SERVICE}
JOB = "milestones"
KEY_PREFIX = "milestone:"  # of every greeting's outbox key and its gift's ledger key
OWN_TEXT = "milestones.own_text"  # the owner's wording from config.yml, placeholders filled
LOCALES = {"de": "de_DE", "en": "en_GB"}


@dataclass(frozen=True)
class Rules:
    settings: MilestonesSection
    loyalty: LoyaltySection  # gift points expire like all points
    zone: ZoneInfo
    language: str  # the shop's: numbers and dates in the owner's own wording

    @property
    def enabled(self) -> tuple[str, ...]:
        return tuple(occasion for occasion in OCCASIONS if getattr(self.settings, occasion).enabled)


def rules_from(config: ShopConfig) -> Rules:
    return Rules(config.milestones, config.loyalty, ZoneInfo(config.shop.timezone), config.shop.language)


# --- dates -------------------------------------------------------------------------------------

def latest_day(now: datetime, send_hour: int, zone: ZoneInfo) -> date:
    """The last shop-local day whose send hour has come: today from ``send_hour`` on, else yesterday."""
    local = now.astimezone(zone)
    return local.date() if local.hour >= send_hour else local.date() - timedelta(days=1)


def days_to_scan(last_done: date | None, latest: date, catch_up_days: int) -> list[date]:
    """The days after ``last_done`` up to ``latest``, at most ``catch_up_days`` before it. The
    first run ever (``last_done`` None) scans ``latest`` only: no days were missed then."""
    first = latest if last_done is None else max(last_done + timedelta(days=1),
                                                  latest - timedelta(days=catch_up_days))
    return [first + timedelta(days=n) for n in range((latest - first).days + 1)]


def celebrated_on(month: int, day: int, year: int) -> date:
    """The day an annual date falls on in ``year``: 29 February is the 28th in common years."""
    if (month, day) == (2, 29) and not _leap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def birthdays_on(days: list[date]) -> dict[tuple[int, int], date]:
    """(month, day) of the birthdays celebrated on the given days -> the day they fall on."""
    dates: dict[tuple[int, int], date] = {}
    for day in days:
        dates[(day.month, day.day)] = day
        if (day.month, day.day) == (2, 28) and not _leap(day.year):
            dates[(2, 29)] = day
    return dates


def anniversary_origins(day: date, since_year: int) -> list[date]:
    """The dates in the years from ``since_year`` up to the year before ``day`` whose
    anniversary falls on ``day`` (two in leap years when ``day`` is 28 February of a common year)."""
    origins = []
    for year in range(since_year, day.year):
        for month, dom in ((day.month, day.day), (2, 29)):
            if (month, dom) == (2, 29) and not _leap(year):
                continue
            origin = date(year, month, dom)
            if celebrated_on(month, dom, day.year) == day and origin not in origins:
                origins.append(origin)
    return sorted(origins)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight of ``day`` in UTC (days have 23 or 25 hours around daylight saving time)."""
    return datetime.combine(day, time(0), zone).astimezone(timezone.utc)


def _ranges(days: list[date], zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The UTC ranges covering the given local days, consecutive days merged."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if ranges and ranges[-1][1] == day:
            ranges[-1] = (ranges[-1][0], day + timedelta(days=1))
        else:
            ranges.append((day, day + timedelta(days=1)))
    return [(day_start(first, zone), day_start(end, zone)) for first, end in ranges]


def send_time(now: datetime, send_hour: int, zone: ZoneInfo) -> datetime:
    """When the day's messages may go out: now, or at ``send_hour`` if a catch-up runs earlier
    in the day (a restart at 3 in the morning sends nothing at night)."""
    local = now.astimezone(zone)
    if local.hour >= send_hour:
        return now
    return datetime.combine(local.date(), time(send_hour), zone).astimezone(timezone.utc)


# --- what is due -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Due:
    occasion: str
    customer_id: int
    chat_id: int
    first_name: str
    on: date  # the shop-local day it falls on
    ref: str  # what makes it unique per customer: the year, the last purchase's or the expiry's date
    years: int = 0  # anniversary
    points: int = 0  # expiry warning: the points that expire
    expires_on: date | None = None  # expiry warning

    @property
    def key(self) -> str:
        return f"{KEY_PREFIX}{self.occasion}:{self.ref}:{self.customer_id}"

    @property
    def category(self) -> str:
        return CATEGORY[self.occasion]


def last_done(session: Session) -> date | None:
    return daily_jobs.last_done(session, JOB)


def find_due(session: Session, rules: Rules, now: datetime) -> list[Due]:
    """What a run at ``now`` would queue: the enabled occasions on the days not scanned yet
    (see ``days_to_scan``), for the customers who can get them. Reads only."""
    latest = latest_day(now, rules.settings.send_hour, rules.zone)
    return _due_on(session, rules, days_to_scan(last_done(session), latest, rules.settings.catch_up_days))


def _due_on(session: Session, rules: Rules, days: list[date]) -> list[Due]:
    if not days:
        return []
    finders = {BIRTHDAY: _birthdays, ANNIVERSARY: _anniversaries, WIN_BACK: _win_backs,
               EXPIRY_WARNING: _expiry_warnings}
    return [due for occasion in rules.enabled for due in finders[occasion](session, rules, days)]


CHUNK = 1000  # ids per IN list, far below the databases' parameter limits


def _chunks(ids) -> list[list[int]]:
    ordered = sorted(set(ids))
    return [ordered[start:start + CHUNK] for start in range(0, len(ordered), CHUNK)]


def _customers(session: Session, condition, *columns, marketing: bool) -> list[tuple]:
    """(id, chat id, first name, *columns) of the customers matching ``condition`` who have a
    reachable Telegram account (and consent, for marketing)."""
    query = (select(Customer.id, TelegramAccount.chat_id, Customer.first_name, *columns)
             .join(TelegramAccount, TelegramAccount.customer_id == Customer.id)
             .where(condition, TelegramAccount.unreachable_since.is_(None)))
    if marketing:
        query = query.where(Customer.marketing_consent.is_(True))
    return list(session.execute(query).all())


def _birthdays(session: Session, rules: Rules, days: list[date]) -> list[Due]:
    wanted = birthdays_on(days)
    rows = _customers(session, or_(*(and_(Customer.birthday_month == month, Customer.birthday_day == dom)
                                     for month, dom in wanted)),
                      Customer.birthday_month, Customer.birthday_day, marketing=True)
    return [Due(BIRTHDAY, customer_id, chat_id, name, wanted[(month, dom)], str(wanted[(month, dom)].year))
            for customer_id, chat_id, name, month, dom in rows]


def _anniversaries(session: Session, rules: Rules, days: list[date]) -> list[Due]:
    earliest = session.exec(select(func.min(Customer.first_purchase_at))).first()
    if earliest is None:
        return []
    since = earliest.astimezone(rules.zone).year
    origins = [origin for day in days for origin in anniversary_origins(day, since)]
    if not origins:
        return []
    rows = _customers(session, or_(*(and_(Customer.first_purchase_at >= start, Customer.first_purchase_at < end)
                                     for start, end in _ranges(origins, rules.zone))),
                      Customer.first_purchase_at, marketing=True)
    found = []
    for customer_id, chat_id, name, first_at in rows:
        origin = first_at.astimezone(rules.zone).date()
        day = next(d for d in days if d.year > origin.year and celebrated_on(origin.month, origin.day, d.year) == d)
        found.append(Due(ANNIVERSARY, customer_id, chat_id, name, day, str(day.year), years=day.year - origin.year))
    return found


def _win_backs(session: Session, rules: Rules, days: list[date]) -> list[Due]:
    pause = timedelta(days=rules.settings.win_back.after_days)
    ((start, end),) = _ranges([day - pause for day in days], rules.zone)  # the days are consecutive
    rows = _customers(session, and_(Customer.last_purchase_at >= start, Customer.last_purchase_at < end),
                      Customer.last_purchase_at, marketing=True)
    found = []
    for customer_id, chat_id, name, last_at in rows:
        last_day = last_at.astimezone(rules.zone).date()
        # Keyed by the last purchase's day: once per pause, and again after the next purchase.
        found.append(Due(WIN_BACK, customer_id, chat_id, name, last_day + pause, last_day.isoformat()))
    return found


def _expiry_warnings(session: Session, rules: Rules, days: list[date]) -> list[Due]:
    """Points that expire on the days ``days_before`` after the scanned ones and are still
    there. As in ``loyalty.remaining_lots``, deductions use up the points that expire first, so
    what is left of the points expiring before a moment is max(0, earned before it - deducted)."""
    ahead = timedelta(days=rules.settings.expiry_warning.days_before)
    expiring_days = [day + ahead for day in days]
    bounds = [day_start(day, rules.zone) for day in expiring_days] + [
        day_start(expiring_days[-1] + timedelta(days=1), rules.zone)]
    candidates = session.exec(select(PointsEntry.customer_id).where(
        PointsEntry.expires_at >= bounds[0], PointsEntry.expires_at < bounds[-1], PointsEntry.amount > 0)).all()
    deducted = func.sum(case((PointsEntry.amount < 0, -PointsEntry.amount), else_=0))
    earned_before = [func.sum(case((and_(PointsEntry.amount > 0, PointsEntry.expires_at < bound), PointsEntry.amount),
                                   else_=0)) for bound in bounds]
    expiring: dict[int, list[int]] = {}  # customer id -> points expiring on each of the days
    for chunk in _chunks(candidates):
        for customer_id, used, *earned in session.execute(
                select(PointsEntry.customer_id, deducted, *earned_before)
                .where(PointsEntry.customer_id.in_(chunk)).group_by(PointsEntry.customer_id)):
            left = [max(0, (before or 0) - (used or 0)) for before in earned]
            points = [after - before for before, after in zip(left, left[1:])]
            if any(points):
                expiring[customer_id] = points
    found = []
    recipients = [row for chunk in _chunks(expiring) for row in _customers(session, Customer.id.in_(chunk),
                                                                           marketing=False)]
    for customer_id, chat_id, name in recipients:
        for day, expiring_day, points in zip(days, expiring_days, expiring[customer_id]):
            if points > 0:
                found.append(Due(EXPIRY_WARNING, customer_id, chat_id, name, day, expiring_day.isoformat(),
                                 points=points, expires_on=expiring_day))
    return found


# --- the daily run -----------------------------------------------------------------------------

def run_daily(session: Session, rules: Rules, now: datetime) -> int:
    """Claim the days not scanned yet and queue their messages (with their gifts); returns the
    number of rows queued. Nothing to do, or another process claimed the days first: 0."""
    latest = latest_day(now, rules.settings.send_hour, rules.zone)
    previous = last_done(session)
    days = days_to_scan(previous, latest, rules.settings.catch_up_days)
    if not days or not daily_jobs.claim(session, JOB, previous, latest, now):
        return 0
    not_before = send_time(now, rules.settings.send_hour, rules.zone)
    return sum(_queue(session, rules, due, now, not_before) for due in _due_on(session, rules, days))


@dataclass(frozen=True)
class Gift:
    points: int = 0
    coupon: Coupon | None = None


def _queue(session: Session, rules: Rules, due: Due, now: datetime, not_before: datetime) -> bool:
    if session.exec(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == due.key)).first() is not None:
        return False
    gift = _give(session, rules, due, now)
    outbox.enqueue(session, due.key, due.chat_id, message(rules, due, gift), due.category, now,
                   customer_id=due.customer_id, not_before=not_before)
    return True


def _give(session: Session, rules: Rules, due: Due, now: datetime) -> Gift:
    """Book the occasion's points and issue its coupon, once per occasion (the message's key)."""
    setting = getattr(rules.settings, due.occasion)
    points = getattr(setting, "gift_points", 0)
    if points:
        ledger.lock(session, due.customer_id)
        ledger.add_entry(session, due.customer_id, points, ledger.GIFT, due.key, now, note=due.occasion,
                         expires_at=loyalty.expiry_of(now, rules.loyalty))
    offer = getattr(setting, "coupon_offer", None)
    coupon = coupons.issue(session, due.customer_id, offer, setting.coupon_valid_days, now,
                           occasion=f"{due.occasion}:{due.ref}:{due.customer_id}") if offer else None
    return Gift(points, coupon)


def take_back_undelivered_gift(session: Session, row_id: int, now: datetime) -> bool:
    """A greeting that will never arrive (skipped at send time: consent withdrawn, the weekly
    cap, a blocked bot; or failed for good) takes its gift back, as no gift goes to a customer
    who does not hear about it. The points are reversed as far as the balance still holds them
    (some may be spent by now), the coupon expires now unless it was redeemed. Once per
    greeting; True if something was taken back."""
    row = session.get(OutboxMessage, row_id)
    if (row is None or row.customer_id is None or not row.idempotency_key.startswith(KEY_PREFIX)
            or row.status not in (outbox.SKIPPED, outbox.FAILED)):
        return False
    points = _reverse_gift_points(session, row.idempotency_key, row.customer_id, now)
    coupon = _expire_gift_coupon(session, row.idempotency_key.removeprefix(KEY_PREFIX), row.customer_id, now)
    return points or coupon


def _take_back_gift(session: Session, row: OutboxMessage, rules: None, now: datetime) -> str | None:
    """The outbox hook for a greeting that ended undelivered (see ``take_back_undelivered_gift``)."""
    return "gift of an undelivered greeting taken back" if take_back_undelivered_gift(session, row.id, now) else None


outbox.register(outbox.Feature("milestones", KEY_PREFIX, undelivered=_take_back_gift))


def _reverse_gift_points(session: Session, key: str, customer_id: int, now: datetime) -> bool:
    reversal_key = f"{key}:undelivered"
    if ledger.entry_exists(session, reversal_key):
        return False
    given = session.exec(select(PointsEntry.amount).where(PointsEntry.idempotency_key == key,
                                                          PointsEntry.reason == ledger.GIFT)).first()
    if not given:
        return False
    ledger.lock(session, customer_id)
    amount = min(given, ledger.current_balance(session, customer_id, now))
    if amount <= 0:
        return False
    return ledger.add_entry(session, customer_id, -amount, ledger.CORRECTION, reversal_key, now,
                            note="gift of an undelivered greeting") is not None


def _expire_gift_coupon(session: Session, occasion: str, customer_id: int, now: datetime) -> bool:
    expired = session.execute(update(Coupon).where(
        Coupon.occasion == occasion, Coupon.customer_id == customer_id, Coupon.redeemed_at.is_(None),
        Coupon.expires_at > now).values(expires_at=now)).rowcount
    return expired > 0


def message(rules: Rules, due: Due, gift: Gift) -> MessageSpec:
    """The greeting in the customer's language (rendered at send time) or the owner's wording;
    a marketing one ends with how to opt out."""
    template, params = _wording(rules, due, gift)
    if due.category == outbox.MARKETING:
        return MessageSpec("milestones.marketing", {"body": outbox.text_param(template, **params)})
    return MessageSpec(template, params)


def _wording(rules: Rules, due: Due, gift: Gift) -> tuple[str, dict]:
    own = getattr(rules.settings, due.occasion).text
    if own:
        spec = own_wording(own, _owner_values(rules, due, gift))
        return spec.template, spec.params
    if due.occasion == EXPIRY_WARNING:
        return "milestones.expiry_warning", {"name": due.first_name, "points": due.points,
                                             "date": outbox.date_param(due.expires_on)}
    params: dict = {"name": due.first_name}
    if due.occasion == ANNIVERSARY:
        params["years"] = (outbox.text_param("milestones.one_year") if due.years == 1
                           else outbox.text_param("milestones.years", count=due.years))
    gifts = []
    if gift.points:
        gifts.append(outbox.text_param("milestones.gift_points", points=gift.points))
    if gift.coupon is not None:
        gifts.append(outbox.text_param("milestones.gift_coupon", offer=gift.coupon.offer,
                                       code=coupons.link(gift.coupon.code),
                                       valid_until=outbox.date_param(_local_date(gift.coupon.expires_at, rules))))
    template = f"milestones.{due.occasion}"
    if not gifts:
        return template, params
    return "milestones.with_gift", {"greeting": outbox.text_param(template, **params),
                                    "gift": outbox.texts_param(gifts, "\n")}


def _local_date(moment: datetime, rules: Rules) -> date:
    return moment.astimezone(rules.zone).date()


def _owner_values(rules: Rules, due: Due, gift: Gift) -> dict[str, str]:
    locale = LOCALES.get(rules.language, "de_DE")
    coupon = gift.coupon
    return {
        "vorname": due.first_name,
        "punkte": format_decimal(due.points if due.occasion == EXPIRY_WARNING else gift.points, locale=locale),
        "jahre": format_decimal(due.years, locale=locale),
        "datum": format_date(due.expires_on, "long", locale=locale) if due.expires_on else "",
        "angebot": coupon.offer if coupon else "",
        "gutschein": codes.grouped(coupon.code) if coupon else "",
        "gueltig_bis": format_date(_local_date(coupon.expires_at, rules), "long", locale=locale) if coupon else "",
    }


def own_wording(text: str, values: dict[str, str], **extra) -> MessageSpec:
    """The owner's text from config.yml with its placeholders filled (config validation allowed
    only known ones); shown as it is, escaped, in every language."""
    names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    return MessageSpec(OWN_TEXT, {"text": text.format_map({name: values.get(name, "") for name in names})}, **extra)
