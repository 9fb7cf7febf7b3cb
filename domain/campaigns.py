"""Campaigns: the owner's messages to a segment, sent at once (/broadcast) or at a planned or
recurring time (/planen), listed with their figures (/kampagnen) and stoppable (/abbrechen).

The flow: a command names the segment (and the time) and makes a *draft*; the owner's next
message is the text (or a photo with caption), shown as a preview for one sample customer
with the number of recipients; the confirm button (which carries the draft's nonce) plans it.
A run picks the recipients at that moment (consent and reachability as they are then) and
queues one marketing outbox row per recipient with the key ``campaign:<id>:<run>:<customer>``,
so a repeated run, a second replica or a restart never queues anyone twice. The campaign's
control group (``holdout_percent`` of the segment, chosen in ``domain.holdout``) gets no row.

Large runs stay out of the hot path. Starting a run (the confirm button, ``run_due`` for a
planned one) only marks the campaign ``queuing``; its recipients are then queued page by page
(``queue_page``, ``queue_next_page``), ``QUEUE_PAGE`` at a time, each page its own short
transaction that also moves the run's cursor (``queue_cursor``, the last customer id queued).
So a customer writing meanwhile waits for one page at most (SQLite has one writer), a crash
resumes after the last page that was committed, and two processes paging the same run (the
owner's button and a replica's timer) take turns on the campaign's row lock and never queue
anyone twice (the cursor, and the outbox's unique key besides). The dispatcher
checks consent, quiet hours and the weekly cap again at send time and fills the placeholders
({vorname}, {punkte}, ...) with the customer's figures at that moment.

Only the campaign row holds the text: outbox rows point to it, so 10,000 recipients do not
mean 10,000 copies of the text.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from babel.dates import format_date
from babel.numbers import format_decimal
from sqlalchemy import func, update
from sqlmodel import Session, select

from domain import conversation, coupons, holdout, ledger, outbox, segments
from domain.rules import codes, when
from domain.config import LoyaltySection, ShopConfig
from domain.outbox import Attachment, MessageSpec
from storage import sql
from storage.models import Campaign, Coupon, Customer, OutboxMessage
from domain.rules.errors import Refusal

DRAFT, PLANNED, QUEUING, DONE, CANCELLED = "draft", "planned", "queuing", "done", "cancelled"
TEXT_STEP = "campaign_text"
DRAFT_LIFETIME = timedelta(hours=24)  # the owner may write the text, ask the team and confirm later
TEMPLATE, TEMPLATE_WITH_COUPON = "campaigns.message", "campaigns.message_with_coupon"
MAX_TEXT = 3500  # Telegram allows 4096 characters; room for the coupon line and long names
MAX_CAPTION = 800  # a photo's caption may have 1024
DEFAULT_COUPON_DAYS = 30
PLACEHOLDERS = ("vorname", "punkte", "stufe", "naechste_stufe", "gutschein", "gueltig_bis")
_PLACEHOLDER = re.compile(r"\{([^{}\s]{1,30})\}")
# The last line "Gutschein: 10 % auf Bohnen" or "Gutschein (14 Tage): ..." makes it a coupon campaign.
_COUPON_LINE = re.compile(r"^\s*gutschein\s*(?:\(\s*(?P<days>\d{1,4})\s*tag(?:e|en)?\s*\))?\s*:\s*(?P<offer>.*)$",
                          re.IGNORECASE)
# Recipients queued per transaction: a page takes some 50 ms on SQLite, so a customer's answer
# never waits long for the write lock, and 200 pages queue 100,000 recipients.
QUEUE_PAGE = 500
_RUNS_PER_CHECK = 5


class CampaignError(Refusal):
    """``reason``: text_missing, text_too_long, caption_too_long, unknown_placeholder,
    coupon_offer_missing, coupon_offer_too_long, coupon_days_invalid, coupon_without_offer,
    not_found, finished."""


@dataclass(frozen=True)
class Rules:
    segments: segments.Rules
    loyalty: LoyaltySection
    timezone: str


def rules_from(config: ShopConfig) -> Rules:
    return Rules(segments.rules_from(config), config.loyalty, config.shop.timezone)


# --- the owner's message -----------------------------------------------------------------------

@dataclass(frozen=True)
class Message:
    text: str
    coupon_offer: str | None = None
    coupon_days: int | None = None


def read_message(text: str | None, has_photo: bool = False) -> Message:
    """The owner's text: placeholders checked, a last line "Gutschein: ..." taken as the coupon."""
    lines = (text or "").strip().splitlines()
    offer = days = None
    coupon = _COUPON_LINE.match(lines[-1]) if lines else None
    if coupon:
        lines = lines[:-1]
        offer = " ".join(coupon["offer"].split())
        days = int(coupon["days"]) if coupon["days"] else DEFAULT_COUPON_DAYS
        if not offer:
            raise CampaignError("coupon_offer_missing")
        if len(offer) > 200:
            raise CampaignError("coupon_offer_too_long", len(offer))
        if not 1 <= days <= 365:
            raise CampaignError("coupon_days_invalid", days)
    body = "\n".join(lines).strip()
    if not body and not has_photo:
        raise CampaignError("text_missing")
    limit = MAX_CAPTION if has_photo else MAX_TEXT
    if len(body) > limit:
        raise CampaignError("caption_too_long" if has_photo else "text_too_long", len(body))
    for name in _PLACEHOLDER.findall(body):
        if name.lower() not in PLACEHOLDERS:
            raise CampaignError("unknown_placeholder", name[:30])
        if name.lower() in ("gutschein", "gueltig_bis") and offer is None:
            raise CampaignError("coupon_without_offer", name)
    return Message(body, offer, days)


# --- drafts ------------------------------------------------------------------------------------

def start(session: Session, owner_customer_id: int, owner_user_id: int, segment: segments.Segment,
          schedule: when.Schedule | None, now: datetime, holdout_percent: int = 0) -> Campaign:
    """/broadcast or /planen: a draft for the segment; the owner's next message is its text.
    ``holdout_percent``: the control group it starts with (the preview can change it)."""
    campaign = Campaign(status=DRAFT, nonce=secrets.token_hex(6), segment=segment.text,
                        next_run_at=schedule.first_run if schedule else None,
                        recurrence=schedule.recurrence if schedule else None,
                        created_by=owner_user_id, created_at=now, holdout_percent=holdout_percent)
    session.add(campaign)
    session.flush()
    conversation.set_step(session, owner_customer_id, TEXT_STEP, now, {"campaign_id": campaign.id},
                          lifetime=DRAFT_LIFETIME)
    return campaign


def waiting_draft(session: Session, owner_customer_id: int, now: datetime) -> Campaign | None:
    """The draft whose text the owner is about to send, if any."""
    step = conversation.current_step(session, owner_customer_id, now)
    if step is None or step.name != TEXT_STEP:
        return None
    campaign = session.get(Campaign, int(step.data.get("campaign_id", 0)))
    return campaign if campaign is not None and campaign.status == DRAFT else None


def set_message(session: Session, campaign_id: int, message: Message, photo: str | None) -> Campaign:
    """The text (again: a corrected text replaces the first) of a draft."""
    campaign = session.get(Campaign, campaign_id)
    campaign.text, campaign.photo = message.text, photo
    campaign.coupon_offer, campaign.coupon_valid_days = message.coupon_offer, message.coupon_days
    session.add(campaign)
    return campaign


def set_holdout(session: Session, campaign_id: int, nonce: str, owner_user_id: int, percent: int) -> Campaign | None:
    """The control group row under the preview: only the draft's owner, only before it is
    confirmed (None otherwise, as for an old or forged button)."""
    if not 0 <= percent <= holdout.MAX_PERCENT:
        return None
    changed = session.execute(update(Campaign).where(
        Campaign.id == campaign_id, Campaign.nonce == nonce, Campaign.status == DRAFT,
        Campaign.created_by == owner_user_id,
    ).values(holdout_percent=percent).execution_options(synchronize_session=False)).rowcount
    return session.get(Campaign, campaign_id, populate_existing=True) if changed == 1 else None


@dataclass(frozen=True)
class Confirmed:
    campaign: Campaign
    queuing: bool  # a /broadcast: its run started, its recipients are queued by ``queue_page``; else planned


def _take_draft(session: Session, campaign_id: int, nonce: str, owner_user_id: int, status: str) -> Campaign | None:
    """Move a draft on, once: a second press, another owner's press or a forged nonce gets None."""
    taken = session.execute(update(Campaign).where(
        Campaign.id == campaign_id, Campaign.nonce == nonce, Campaign.status == DRAFT,
        Campaign.created_by == owner_user_id, Campaign.text.is_not(None) | Campaign.photo.is_not(None),
    ).values(status=status).execution_options(synchronize_session=False)).rowcount
    return session.get(Campaign, campaign_id) if taken == 1 else None


def confirm(session: Session, campaign_id: int, nonce: str, owner_user_id: int, owner_customer_id: int,
            rules: Rules, now: datetime) -> Confirmed | None:
    """The confirm button: a /broadcast's run starts now (its recipients are queued after this
    transaction, page by page: ``queue_page``), a planned campaign waits for its time."""
    campaign = _take_draft(session, campaign_id, nonce, owner_user_id, PLANNED)
    if campaign is None:
        return None
    session.refresh(campaign)
    conversation.clear_step(session, owner_customer_id)
    if campaign.next_run_at is not None:
        return Confirmed(campaign, queuing=False)
    _start_run(session, campaign, rules, now)
    return Confirmed(campaign, queuing=True)


def discard(session: Session, campaign_id: int, nonce: str, owner_user_id: int, owner_customer_id: int,
            now: datetime) -> bool:
    """"Verwerfen" under the preview: False when it was already sent, planned or discarded."""
    campaign = _take_draft(session, campaign_id, nonce, owner_user_id, CANCELLED)
    if campaign is None:
        return False
    campaign.cancelled_at = now
    session.add(campaign)
    conversation.clear_step(session, owner_customer_id)
    return True


# --- runs --------------------------------------------------------------------------------------

def run_due(session: Session, rules: Rules, now: datetime) -> int:
    """Start the runs of planned campaigns whose time has come; the number of runs started
    (their recipients are queued by ``queue_next_page``). Locked rows are skipped, so two bot
    processes never start the same run twice."""
    due = list(session.exec(select(Campaign).where(Campaign.status == PLANNED, Campaign.next_run_at <= now)
                            .order_by(Campaign.next_run_at).limit(_RUNS_PER_CHECK).with_for_update(skip_locked=True)))
    for campaign in due:
        _start_run(session, campaign, rules, now)
    return len(due)


def _start_run(session: Session, campaign: Campaign, rules: Rules, now: datetime) -> None:
    """The next run begins: the campaign is ``QUEUING`` from the first recipient on; a
    recurring one has its next time already (it is planned again once this run is queued)."""
    campaign.runs, campaign.last_run_at = campaign.runs + 1, now
    campaign.first_run_at = campaign.first_run_at or now  # the control group's effect counts from here
    campaign.next_run_at = when.next_run(campaign.recurrence, now, rules.timezone) if campaign.recurrence else None
    campaign.status, campaign.queue_cursor, campaign.run_queued = QUEUING, 0, 0
    session.add(campaign)


@dataclass(frozen=True)
class Page:
    campaign_id: int
    queued: int  # outbox rows this page queued
    total: int  # outbox rows the run has queued so far (by whichever process)
    done: bool  # the run is queued completely (or the campaign was cancelled meanwhile)


def queue_page(session: Session, campaign_id: int, rules: Rules, now: datetime) -> Page:
    """Queue the next page of the campaign's run (``QUEUE_PAGE`` recipients after its cursor).
    Waits for another process paging the same run, then goes on from where that one stopped."""
    campaign = session.exec(select(Campaign).where(Campaign.id == campaign_id).with_for_update()
                            .execution_options(populate_existing=True)).first()
    if campaign is None:
        return Page(campaign_id, 0, 0, True)
    return _queue_page(session, campaign, rules, now)


def queue_next_page(session: Session, rules: Rules, now: datetime) -> Page | None:
    """Queue a page of a run still being queued (a planned run, or one a crash or a restart
    interrupted); None when no run waits. A run another process is paging right now is
    skipped (its row is locked)."""
    campaign = session.exec(select(Campaign).where(Campaign.status == QUEUING).order_by(Campaign.id).limit(1)
                            .with_for_update(skip_locked=True).execution_options(populate_existing=True)).first()
    if campaign is None:
        return None
    return _queue_page(session, campaign, rules, now)


def _queue_page(session: Session, campaign: Campaign, rules: Rules, now: datetime) -> Page:
    if campaign.status != QUEUING:  # done meanwhile (by another process), or cancelled
        return Page(campaign.id, 0, campaign.run_queued, True)
    try:
        segment = segments.parse(campaign.segment, rules.segments)
    except segments.SegmentError:  # the config changed since (a tier renamed): nobody matches now
        found = []
    else:  # the segment as it was when the run started, whenever this page is queued
        found = segments.recipients(session, segment, rules.segments, campaign.last_run_at or now,
                                    after_id=campaign.queue_cursor or 0, limit=QUEUE_PAGE)
    if not found:
        campaign.status = PLANNED if campaign.recurrence else DONE
        campaign.queue_cursor = None
        session.add(campaign)
        return Page(campaign.id, 0, campaign.run_queued, True)
    recipients, held = holdout.split(campaign.id, campaign.holdout_percent, found)
    holdout.record(session, campaign.id, campaign.runs, held)
    queued = _queue(session, campaign, campaign.runs, recipients, now) if recipients else 0
    campaign.queue_cursor, campaign.run_queued = found[-1][0], campaign.run_queued + queued
    session.add(campaign)
    return Page(campaign.id, queued, campaign.run_queued, False)


def _queue(session: Session, campaign: Campaign, run: int, found: list[tuple[int, int]], now: datetime) -> int:
    """The outbox rows (and coupons) of one page of recipients, (customer id, chat id) each."""
    coupon_codes = (coupons.issue_for_run(session, campaign.id, run, [customer_id for customer_id, _ in found],
                                          campaign.coupon_offer, coupon_days(campaign),
                                          now) if campaign.coupon_offer else {})
    rows = [{
        "idempotency_key": f"campaign:{campaign.id}:{run}:{customer_id}", "chat_id": chat_id,
        "customer_id": customer_id, "category": outbox.MARKETING, "campaign_id": campaign.id,
        "payload": message_spec(campaign, coupon_codes.get(customer_id)).to_payload(), "status": outbox.PENDING,
        "attempts": 0, "not_before": now, "created_at": now,
    } for customer_id, chat_id in found]
    _insert_new(session, rows)
    return len(rows)


def message_spec(campaign: Campaign, coupon_code: str | None) -> MessageSpec:
    """What an outbox row holds: which campaign (the text is read at send time) and the coupon."""
    params = {"campaign_id": campaign.id}
    if coupon_code:
        params["coupon_code"] = coupon_code
    photo = Attachment(outbox.PHOTO, campaign.photo) if campaign.photo else None
    return MessageSpec(TEMPLATE_WITH_COUPON if coupon_code else TEMPLATE, params, attachment=photo)


def sample_text(session: Session, campaign: Campaign, customer_id: int | None, rules: Rules, language: str,
                now: datetime, sample_code: str) -> tuple[str, str | None]:
    """The owner's preview: the text as one sample recipient will read it, and their first name
    (None and the bare text when the segment is empty)."""
    if customer_id is None:
        return fill(campaign.text or "", {}), None
    values = facts(session, customer_id, rules, language, now)
    if campaign.coupon_offer:
        values |= {"gutschein": sample_code, "gueltig_bis": format_date(
            coupon_expiry(campaign, now).date(), "d. MMMM", locale=LOCALES.get(language, "de_DE"))}
    return fill(campaign.text or "", values), values["vorname"]


def coupon_days(campaign: Campaign) -> int:
    return campaign.coupon_valid_days or DEFAULT_COUPON_DAYS


def coupon_expiry(campaign: Campaign, now: datetime) -> datetime:
    """When the coupons of the campaign's next run will expire: they are issued when it goes out."""
    return coupons.expiry(campaign.next_run_at or now, coupon_days(campaign))


def _insert_new(session: Session, rows: list[dict]) -> None:
    """Insert outbox rows in bulk; keys that exist already are left as they are."""
    sql.insert_new(session, OutboxMessage.__table__, rows, key=["idempotency_key"])


# --- personalization at send time ----------------------------------------------------------------

LOCALES = {"de": "de_DE", "en": "en_GB"}


def personal_params(session: Session, customer_id: int | None, params: dict, rules: Rules, language: str,
                    now: datetime) -> dict:
    """The parameters of a campaign row for one customer: the text with its placeholders filled
    with the figures of this moment, and the coupon's offer, code and expiry."""
    campaign = session.get(Campaign, int(params["campaign_id"]))
    coupon = (session.exec(select(Coupon).where(Coupon.code == params["coupon_code"])).first()
              if params.get("coupon_code") else None)
    values = facts(session, customer_id, rules, language, now, coupon) if customer_id else {}
    body = fill(campaign.text or "", values)
    result = {"body": body}
    if coupon is not None:
        result |= {"offer": coupon.offer, "code": coupons.link(coupon.code),
                   "valid_until": outbox.date_param(coupon.expires_at.date())}
    return result


def _personalize(session: Session, row: OutboxMessage, rules: Rules, params: dict, language: str,
                 now: datetime) -> dict:
    """The outbox hook: a campaign row goes out with its customer's figures of the moment."""
    if row.campaign_id is None:
        return params
    return personal_params(session, row.customer_id, params, rules, language, now)


# The rows of ``_queue`` (keys ``campaign:<id>:<run>:<customer>``) are filled in at send time.
outbox.register(outbox.Feature("campaigns", "campaign:", rules_from, personalize=_personalize))


def facts(session: Session, customer_id: int, rules: Rules, language: str, now: datetime,
          coupon: Coupon | None = None) -> dict[str, str]:
    """The placeholder values of one customer, formatted for their language."""
    customer = session.get(Customer, customer_id)
    locale = LOCALES.get(language, "de_DE")
    tier = ledger.tier_status(session, customer_id, rules.loyalty, now)
    values = {
        "vorname": customer.first_name,
        "punkte": format_decimal(ledger.balance(session, customer_id), locale=locale),
        "stufe": tier.tier.name_in(language),
        # At the top there is no next tier: the current one reads well in "Weiter so, Gold!".
        "naechste_stufe": (tier.next_tier or tier.tier).name_in(language),
    }
    if coupon is not None:
        values |= {"gutschein": codes.grouped(coupon.code),
                   "gueltig_bis": format_date(coupon.expires_at.date(), "d. MMMM", locale=locale)}
    return values


def fill(text: str, values: dict[str, str]) -> str:
    """Replace the known placeholders (any case); an unknown one or a missing value stays visible
    rather than silently vanishing."""
    def replace(match: re.Match) -> str:
        return values.get(match.group(1).lower(), match.group(0))
    return _PLACEHOLDER.sub(replace, text)


# --- overview and cancelling ---------------------------------------------------------------------

@dataclass
class Figures:
    queued: int = 0
    sent: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    coupons: int = 0
    redeemed: int = 0

    @property
    def redemption_rate(self) -> float | None:
        return self.redeemed / self.sent if self.coupons and self.sent else None


@dataclass(frozen=True)
class Summary:
    campaign: Campaign
    figures: Figures


LISTED = 10


def overview(session: Session, limit: int = LISTED) -> list[Summary]:
    """Planned and recent campaigns (drafts left out), newest first, with their figures."""
    campaigns = list(session.exec(select(Campaign).where(Campaign.status != DRAFT)
                                  .order_by(Campaign.id.desc()).limit(limit)))
    figures = {c.id: Figures() for c in campaigns}
    if not campaigns:
        return []
    rows = session.exec(select(OutboxMessage.campaign_id, OutboxMessage.status, OutboxMessage.last_error,
                               func.count(OutboxMessage.id))
                        .where(OutboxMessage.campaign_id.in_(list(figures)))
                        .group_by(OutboxMessage.campaign_id, OutboxMessage.status, OutboxMessage.last_error)).all()
    for campaign_id, status, error, count in rows:
        _count(figures[campaign_id], status, error or "", count)
    coupon_rows = session.exec(select(Coupon.campaign_id, func.count(Coupon.id), func.count(Coupon.redeemed_at))
                               .where(Coupon.campaign_id.in_(list(figures))).group_by(Coupon.campaign_id)).all()
    for campaign_id, issued, redeemed in coupon_rows:
        figures[campaign_id].coupons, figures[campaign_id].redeemed = issued, redeemed
    return [Summary(c, figures[c.id]) for c in campaigns]


def _count(figures: Figures, status: str, error: str, count: int) -> None:
    if status in (outbox.PENDING, outbox.SENDING):
        figures.queued += count
    elif status == outbox.SENT:
        figures.sent += count
    elif status == outbox.SKIPPED:
        if error == "unreachable":
            figures.unreachable += count
        else:
            figures.skipped[error or "other"] += count
    elif error.startswith("unreachable"):
        figures.unreachable += count
    else:
        figures.failed += count


@dataclass(frozen=True)
class Cancelled:
    campaign: Campaign
    stopped: int  # pending messages that will not go out


def cancel(session: Session, campaign_id: int, now: datetime) -> Cancelled:
    """/abbrechen <id>: no more runs, and the messages not yet sent stay unsent (one being sent
    at this very moment may still arrive)."""
    campaign = session.exec(select(Campaign).where(Campaign.id == campaign_id, Campaign.status != DRAFT)
                            .with_for_update()).first()
    if campaign is None:
        raise CampaignError("not_found", campaign_id)
    if campaign.status == CANCELLED:
        raise CampaignError("finished", campaign_id)
    stopped = session.execute(update(OutboxMessage).where(
        OutboxMessage.campaign_id == campaign_id, OutboxMessage.status == outbox.PENDING,
    ).values(status=outbox.SKIPPED, last_error="cancelled").execution_options(synchronize_session=False)).rowcount
    if campaign.status == DONE and not stopped:
        raise CampaignError("finished", campaign_id)
    campaign.status, campaign.cancelled_at, campaign.next_run_at = CANCELLED, now, None
    session.add(campaign)
    return Cancelled(campaign, stopped)
