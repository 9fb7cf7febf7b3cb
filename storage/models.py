"""SQLModel tables. Later features add their tables here with a new Alembic migration.

Times are timezone-aware UTC (see ``UTCDateTime``); Telegram ids are 64-bit.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Customer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("code", name="uq_customer_code"),
                      UniqueConstraint("external_ref", name="uq_customer_external_ref"),
                      Index("ix_customer_birthday", "birthday_month", "birthday_day"),
                      # customers at a time, per tier (domain.reports): from the index alone (the id
                      # too: SQLite's indexes hold the row id anyway, PostgreSQL's do not)
                      Index("ix_customer_active", "last_purchase_at", "first_purchase_at", "tier_points", "id"),
                      Index("ix_customer_first_purchase", "first_purchase_at"),
                      Index("ix_customer_revenue", "revenue_cents"),  # vip: the customers from the threshold on
                      # finding the customers whose kept tier points need summing again
                      Index("ix_customer_tier_since", "tier_points_since"),
                      Index("ix_customer_tier_oldest", "tier_points_oldest"),
                      # the report's ABC analysis: customers by their revenue of the last year
                      Index("ix_customer_year_revenue", "year_revenue_cents"),
                      Index("ix_customer_year_revenue_oldest", "year_revenue_oldest"))

    id: int | None = Field(default=None, primary_key=True)
    # Short code for the counter and the loyalty card (no 0/O or 1/I); see domain.rules.codes.
    code: str | None = Field(default=None, max_length=12)
    first_name: str = Field(max_length=128)
    last_name: str | None = Field(default=None, max_length=128)
    # Chosen with /sprache (language_chosen) or the language the customer last clearly wrote
    # in; None means "follow the Telegram app language".
    language: str | None = Field(default=None, max_length=8)
    language_chosen: bool = Field(default=False)  # /sprache wins over the written language
    # Current marketing consent; ConsentRecord holds the full history behind it.
    marketing_consent: bool = Field(default=False)
    consent_asked: bool = Field(default=False)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    # Normalized E.164 (+4915112345678); imported customers link their Telegram by it.
    phone: str | None = Field(default=None, max_length=20, index=True)
    # The shop's own customer number from an import, so importing twice changes nothing.
    external_ref: str | None = Field(default=None, max_length=64)
    birthday_day: int | None = None
    birthday_month: int | None = None
    birthday_year: int | None = None
    referred_by_id: int | None = Field(default=None, foreign_key="customer.id")
    # Bumped by every change of the points: the UPDATE is the lock that serializes them.
    points_version: int = Field(default=0)
    # Purchase figures (reversals excluded), kept by domain.purchases.refresh_stats so that
    # segments and milestones read one row per customer instead of aggregating purchases.
    purchase_count: int = Field(default=0)
    revenue_cents: int = Field(default=0, sa_type=BigInteger)
    first_purchase_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_purchase_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The revenue of the last 365 days, for the report's ABC analysis at the present moment:
    # the sum of the purchases (reversals excluded) from a start no later than a year before any
    # later moment, and the oldest of them. Right at t while no counted purchase is older than
    # t - 365 days (domain.purchases.year_revenue_column falls back to the purchases for the
    # others); kept by domain.purchases.refresh_stats, refreshed by refresh_year_revenue.
    # The oldest as whole seconds since 1970 (UTC, rounded down): four bytes instead of a
    # 26-character timestamp on SQLite, where every segment count reads the whole row.
    year_revenue_cents: int = Field(default=0, sa_type=BigInteger)
    year_revenue_oldest: int | None = Field(default=None, sa_type=BigInteger)
    # The points that count for the tier (segment stufe:<Name> reads them for every customer
    # at once): their sum over the window that began at tier_points_since, and the oldest tier
    # date among them. Kept by domain.ledger: every points change clears tier_points_since
    # (ledger.lock), and ledger.refresh_tier_points fills it in again. The figures are right
    # while tier_points_since is set, not after the current window's start and no counted
    # points are older than that start (ledger.tier_points_column falls back to the ledger).
    tier_points: int = Field(default=0)
    tier_points_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    tier_points_oldest: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A Telegram account that is not marked unreachable (kept by domain.customers): with
    # marketing_consent, what campaigns need, on the row the segment counts read anyway.
    telegram_reachable: bool = Field(default=False)
    # The categories bought from (reversals excluded), as the segment kategorie:<Name> compares
    # them: each folded (domain.purchases.category_key) and framed by "|", sorted, e.g.
    # "|kaffee|kuchen|"; "" for none. Kept by domain.purchases.refresh_stats.
    category_keys: str = Field(default="", sa_type=Text)
    # The score of the latest answered NPS survey (by answer time, then id), for the segment
    # nps:<Gruppe>; kept by domain.surveys.
    nps_score: int | None = None
    # Set when the customer's personal data was erased (domain.data_rights): the row stays,
    # without anything personal, so the shop's figures (purchases, points) keep adding up.
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RevenueGroup(SQLModel, table=True):
    """How many customers have exactly this revenue (> 0; reversals excluded): the distribution
    the VIP segment's ABC analysis walks, tens of thousands of rows instead of every customer.
    Kept by domain.purchases.refresh_stats with the other purchase figures."""

    __tablename__ = "revenue_group"

    revenue_cents: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    customers: int = Field(default=0)


class ReportCache(SQLModel, table=True):
    """The costly figures of a past report period (domain.reports), computed once: the
    customers, purchases, ABC split and points of a period that has ended change only when
    purchases or points are booked, reversed or imported for it afterwards, which the marks
    tell: purchases and points entries above the marks dated before the period's end (a
    reversal books a ledger correction dated at the purchase; a merge of two customers' records
    clears the cache)."""

    __tablename__ = "report_cache"

    key: str = Field(primary_key=True, max_length=200)
    figures: str = Field(sa_type=Text)  # JSON
    purchase_mark: int = Field(default=0)
    points_mark: int = Field(default=0)
    computed_at: datetime = Field(sa_type=UTCDateTime)


class ReportDay(SQLModel, table=True):
    """The shop as it stood at one midnight (shop time), kept by the bot's job for the report
    (domain.report_days): customers then per loyalty tier, points outstanding, and how many
    customers had each revenue in the year before (the ABC split). A report's figures at any
    moment of the kept days are the nearest midnight before it plus what happened since. A row
    stands while no purchase or points entry dated before it is booked, imported or reversed
    afterwards (the marks, as for ``report_cache``) and the rules it was counted by
    (``rules_key``) still hold."""

    __tablename__ = "report_day"

    at: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    rules_key: str = Field(max_length=80)
    tiers: str = Field(sa_type=Text)  # JSON: customers per tier, lowest first
    points_outstanding: int = Field(default=0, sa_type=BigInteger)
    revenues: str = Field(sa_type=Text)  # JSON: [[revenue in cents, customers], ...]
    purchase_mark: int = Field(default=0)
    points_mark: int = Field(default=0)
    computed_at: datetime = Field(sa_type=UTCDateTime)


class TelegramAccount(SQLModel, table=True):
    """The Telegram identity of a customer (imported customers may have none yet)."""

    __tablename__ = "telegram_account"

    telegram_user_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    customer_id: int = Field(foreign_key="customer.id", unique=True)
    chat_id: int = Field(sa_type=BigInteger)
    username: str | None = Field(default=None, max_length=64)
    language_code: str | None = Field(default=None, max_length=16)
    # Set when Telegram says the bot was blocked or the chat is gone; no more sends then.
    unreachable_since: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsentWording(SQLModel, table=True):
    """The exact text a consent question showed, so every record can be traced to it."""

    __tablename__ = "consent_wording"

    version: str = Field(primary_key=True, max_length=32)
    language: str = Field(max_length=8)
    text: str
    first_used_at: datetime = Field(sa_type=UTCDateTime)


class ConsentRecord(SQLModel, table=True):
    """Append-only history of consent decisions."""

    __tablename__ = "consent_record"
    __table_args__ = (Index("ix_consent_record_customer_topic", "customer_id", "topic", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    topic: str = Field(max_length=32)
    granted: bool
    wording_version: str | None = Field(default=None, foreign_key="consent_wording.version")
    source: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ConversationState(SQLModel, table=True):
    """The step a customer's conversation is in, kept in the database so that a restart or a
    second replica continues it."""

    __tablename__ = "conversation_state"

    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    step: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class OutboxMessage(SQLModel, table=True):
    """A proactive message waiting to be sent, being sent, or done.

    The payload describes the message (a text template and its parameters, or literal text,
    plus buttons) without any Telegram types; the dispatcher renders it at send time.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
        Index("ix_outbox_due", "status", "not_before"),
        Index("ix_outbox_sent_message", "chat_id", "telegram_message_id"),
        Index("ix_outbox_campaign", "campaign_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200)
    chat_id: int = Field(sa_type=BigInteger)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    category: str = Field(max_length=32)  # service | staff | marketing
    payload: dict[str, Any] = Field(sa_type=JSON)
    status: str = Field(default="pending", max_length=16)  # pending | sending | sent | failed | skipped
    attempts: int = Field(default=0)
    not_before: datetime = Field(sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    telegram_message_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The campaign a marketing row belongs to (for /kampagnen's counts and /abbrechen).
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id")
    # Of a chat's waiting rows the most urgent goes first (higher first), then the oldest:
    # a ticket alert before relayed customer messages in a full staff group.
    priority: int = Field(default=0)


class MessageLog(SQLModel, table=True):
    """What customers wrote and what the bot understood, for support and NLU improvement."""

    __tablename__ = "message_log"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    chat_id: int = Field(sa_type=BigInteger)
    direction: str = Field(max_length=8)  # in | out
    kind: str = Field(max_length=16)  # text | command | button
    text: str = Field(max_length=1000)
    intent: str | None = Field(default=None, max_length=64)
    confidence: float | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)


class Purchase(SQLModel, table=True):
    """A purchase booked at the counter, from a receipt QR code or from an import."""

    __table_args__ = (UniqueConstraint("idempotency_key", name="uq_purchase_idempotency_key"),
                      # a customer's purchases; the reports' sums per customer from the index alone
                      Index("ix_purchase_customer", "customer_id", "created_at", "reversed_at", "amount_cents"),
                      # the purchases of a period (reports)
                      Index("ix_purchase_time", "created_at", "customer_id", "amount_cents", "reversed_at"),
                      # The segment kategorie:<Name>: its distinct names and buyers from the index alone.
                      Index("ix_purchase_category", "category", "customer_id", "reversed_at"))

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200)
    customer_id: int = Field(foreign_key="customer.id")
    amount_cents: int
    category: str | None = Field(default=None, max_length=40)
    source: str = Field(max_length=16)  # counter | receipt | import
    booked_by: int | None = Field(default=None, sa_type=BigInteger)  # staff Telegram user id
    created_at: datetime = Field(sa_type=UTCDateTime)
    # A reversal (/storno) books a correction in the ledger and notes it here.
    reversed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reversal_reason: str | None = Field(default=None, max_length=200)


class PointsEntry(SQLModel, table=True):
    """The append-only points ledger: a balance is the sum of a customer's entries."""

    __tablename__ = "points_entry"
    __table_args__ = (UniqueConstraint("idempotency_key", name="uq_points_entry_idempotency_key"),
                      Index("ix_points_entry_customer", "customer_id", "id"),
                      Index("ix_points_entry_expires", "expires_at"),
                      # The tier of every customer at once (segment stufe:<Name>), from the index alone.
                      Index("ix_points_entry_tier", "customer_id", "tier_at", "amount"),
                      # points issued and redeemed in a period (reports), from the index alone
                      Index("ix_points_entry_time", "created_at", "reason", "amount"),
                      # who earned or lost tier points between two moments (domain.report_days)
                      Index("ix_points_entry_tier_time", "tier_at", "customer_id"))

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200)
    customer_id: int = Field(foreign_key="customer.id")
    amount: int  # signed
    reason: str = Field(max_length=16)  # purchase | reward | referral | goodwill | expiry | correction | import | gift
    purchase_id: int | None = Field(default=None, foreign_key="purchase.id")
    redemption_id: int | None = Field(default=None, foreign_key="redemption.id")
    # When these points count for the tier (a purchase, and its reversal, at purchase time).
    tier_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Redemption(SQLModel, table=True):
    """A reward the customer bought with points: a one-time code staff mark as used."""

    __table_args__ = (UniqueConstraint("code", name="uq_redemption_code"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=12)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    reward_key: str = Field(max_length=32)
    reward_name: str = Field(max_length=60)
    cost: int
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by: int | None = Field(default=None, sa_type=BigInteger)


class UsedReceipt(SQLModel, table=True):
    """Receipt tokens already scanned: a token credits once, whoever scans it."""

    __tablename__ = "used_receipt"

    nonce: str = Field(primary_key=True, max_length=32)
    customer_id: int = Field(foreign_key="customer.id")
    purchase_id: int | None = Field(default=None, foreign_key="purchase.id")
    used_at: datetime = Field(sa_type=UTCDateTime)


class Survey(SQLModel, table=True):
    """One NPS question to one customer: scheduled after a purchase, asked through the
    outbox, answered with a score and maybe a reason, whose topics are tagged."""

    __table_args__ = (UniqueConstraint("purchase_id", name="uq_survey_purchase"),
                      Index("ix_survey_customer", "customer_id", "due_at"),
                      # the answers of a period per score (the NPS of /nps and /bericht): from the index alone
                      Index("ix_survey_answered", "answered_at", "score"))

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    purchase_id: int | None = Field(default=None, foreign_key="purchase.id")
    status: str = Field(max_length=16)  # scheduled | answered | done
    created_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    score: int | None = None
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str | None = Field(default=None, max_length=1000)
    topics: list[str] = Field(default_factory=list, sa_type=JSON)


class Feedback(SQLModel, table=True):
    """Praise and suggestions a customer sent with /feedback, tagged with topics."""

    __table_args__ = (UniqueConstraint("request_ref", name="uq_feedback_request_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    request_ref: str = Field(max_length=64)  # the customer's message: stored once however often it arrives
    customer_id: int = Field(foreign_key="customer.id", index=True)
    text: str = Field(max_length=2000)
    topics: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Ticket(SQLModel, table=True):
    """A complaint, a question for a person, or an NPS detractor's "please call me": one thread
    between a customer and the team, with its SLA deadlines and follow-up stored here so a
    restart re-arms them."""

    __table_args__ = (UniqueConstraint("request_ref", name="uq_ticket_request_ref"),
                      Index("ix_ticket_customer", "customer_id", "created_at"),
                      Index("ix_ticket_status", "status", "response_due_at"))

    id: int | None = Field(default=None, primary_key=True)
    request_ref: str = Field(max_length=64)  # what opened it: opened once however often it arrives
    customer_id: int = Field(foreign_key="customer.id")
    kind: str = Field(max_length=16)  # complaint | question | nps
    status: str = Field(max_length=16)  # open | resolved | closed
    category: str = Field(max_length=16)  # a topic key (domain.rules.topics)
    priority: str = Field(max_length=8)  # normal | high | urgent
    priority_reasons: list[str] = Field(default_factory=list, sa_type=JSON)
    text: str = Field(default="", max_length=2000)
    order_ref: str | None = Field(default=None, max_length=40)
    survey_id: int | None = Field(default=None, foreign_key="survey.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    # The outbox key of the current staff alert: the thread's messages reply to it.
    alert_key: str = Field(max_length=64)
    claimed_by_id: int | None = Field(default=None, sa_type=BigInteger)
    claimed_by_name: str | None = Field(default=None, max_length=128)
    # A staff member who pressed "Antworten": their next message in the staff chat is the reply.
    replying_id: int | None = Field(default=None, sa_type=BigInteger)
    replying_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The message id (in the staff chat) of the latest "Antworten" prompt: a reply to it goes to the customer.
    reply_prompt_id: int | None = Field(default=None, sa_type=BigInteger)
    # The SLA: None once the customer got a first answer.
    response_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminder_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    follow_up_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    follow_up_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    times_reopened: int = Field(default=0)
    goodwill_points: int = Field(default=0)


class TicketEvent(SQLModel, table=True):
    """The history of a ticket (/ticket <n>): opened, claimed, messages both ways, goodwill,
    reminders, escalation, resolved, follow-up answers."""

    __tablename__ = "ticket_event"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    kind: str = Field(max_length=24)
    actor: str | None = Field(default=None, max_length=128)  # a staff member's name; None: customer or bot
    text: str | None = Field(default=None, max_length=2000)


class Campaign(SQLModel, table=True):
    """A message the owner sends to a segment: at once (/broadcast), at a planned time or
    recurring (/planen). A draft waits for the owner's confirmation; each run queues one
    outbox row per recipient (key ``campaign:<id>:<run>:<customer id>``)."""

    __table_args__ = (Index("ix_campaign_due", "status", "next_run_at"),)

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(max_length=16)  # draft | planned | queuing | done | cancelled
    # The confirm button carries it, so a forged or old button confirms nothing.
    nonce: str = Field(max_length=16)
    segment: str = Field(max_length=300)  # as the owner typed it, checked when the campaign is made
    text: str | None = Field(default=None, max_length=4000)  # with placeholders such as {vorname}
    photo: str | None = Field(default=None, max_length=200)  # a Telegram file id
    # When planned: the first run; a recurring campaign's rule, e.g. "weekly:0:09:00" (Monday 9:00).
    next_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recurrence: str | None = Field(default=None, max_length=32)
    runs: int = Field(default=0)
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A run is queued page by page (status "queuing"): the last customer id queued so far (None
    # when no run is being queued) and how many recipients the latest run has queued.
    queue_cursor: int | None = None
    run_queued: int = Field(default=0)
    # An optional coupon: what it gives ("10 % auf eine Packung Bohnen") and how long it is valid.
    coupon_offer: str | None = Field(default=None, max_length=200)
    coupon_valid_days: int | None = None
    created_by: int = Field(sa_type=BigInteger)  # the owner's Telegram user id
    created_at: datetime = Field(sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The control group: this share of the segment is held back (campaign_holdout); the effect
    # is measured from the first run.
    holdout_percent: int = Field(default=0)
    first_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CampaignHoldout(SQLModel, table=True):
    """A customer of a campaign's segment held back from one run (the control group): no
    outbox row, only this one, so /kampagnen can compare them with the recipients."""

    __tablename__ = "campaign_holdout"

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    run: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    customer_id: int = Field(foreign_key="customer.id", primary_key=True, sa_column_kwargs={"autoincrement": False})


class Coupon(SQLModel, table=True):
    """A campaign's personal coupon: one unique code per recipient and run, redeemed once at
    the counter with /einloesen."""

    __table_args__ = (UniqueConstraint("code", name="uq_coupon_code"),
                      UniqueConstraint("campaign_id", "run", "customer_id", name="uq_coupon_recipient"))

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=12)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id")
    run: int = Field(default=0)
    # A milestone's coupon (e.g. the birthday gift) names its occasion instead of a campaign.
    occasion: str | None = Field(default=None, max_length=64)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    offer: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    redeemed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    redeemed_by: int | None = Field(default=None, sa_type=BigInteger)


class JobRun(SQLModel, table=True):
    """When a daily job (the milestone scan) last ran: one replica claims a day by moving
    ``last_run_on`` forward in one UPDATE, and a restart knows what is still to do."""

    __tablename__ = "job_run"

    name: str = Field(primary_key=True, max_length=64)
    last_run_on: date | None = Field(default=None, sa_type=Date)
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DataRequest(SQLModel, table=True):
    """A customer's data export or erasure, done: who executed it (the customer themselves, or
    an owner's Telegram user id) and when; no names, nothing else about the person."""

    __tablename__ = "data_request"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    kind: str = Field(max_length=16)  # export | erasure
    executed_by: int | None = Field(default=None, sa_type=BigInteger)  # None: the customer; else an owner
    at: datetime = Field(sa_type=UTCDateTime)


class StaffChat(SQLModel, table=True):
    """The staff group as it is now, when it differs from the configured one: Telegram gives a
    group a new id when it becomes a supergroup, and the bot follows it (one row, id 1)."""

    __tablename__ = "staff_chat"

    id: int = Field(default=1, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger)
    migrated_from: int | None = Field(default=None, sa_type=BigInteger)
    changed_at: datetime = Field(sa_type=UTCDateTime)
    # An owner made this group the staff group with the button offered when the bot was added
    # to it: then it is the staff group whatever config.yml says (STAMMGAST_STAFF_CHAT_ID wins).
    chosen: bool = Field(default=False)


class ShopOwner(SQLModel, table=True):
    """Owners who became owners in the chat (with the one-time owner code, ``domain.owners``),
    on top of config.yml's ``staff.admin_ids``; ignored while STAMMGAST_ADMIN_IDS is set."""

    __tablename__ = "shop_owner"

    telegram_user_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    added_at: datetime = Field(sa_type=UTCDateTime)


class OwnerCode(SQLModel, table=True):
    """The one-time owner code while the shop has no owner (one row, id 1; deleted when used).
    Kept in plain text: the bot prints it again at every start and ``doctor`` shows it, and
    whoever can read this database owns the shop anyway."""

    __tablename__ = "owner_code"

    id: int = Field(default=1, primary_key=True)
    code: str = Field(max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)


class StaffMember(SQLModel, table=True):
    """Members of the staff group the bot has seen as staff (they used a staff command or
    button, or Telegram reported them joining); a member who leaves is deleted. Segments leave
    them out unless they bought something: the team is not the shop's customers."""

    __tablename__ = "staff_member"

    telegram_user_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    seen_at: datetime = Field(sa_type=UTCDateTime)


class CounterPrompt(SQLModel, table=True):
    """A "Betrag?" question the bot asked a staff member after they scanned a customer's card:
    their answer (a reply to it, or the next amount they type in that chat) books a purchase for
    this customer. Kept in the database so a second replica or a restart still knows it."""

    __tablename__ = "counter_prompt"
    __table_args__ = (Index("ix_counter_prompt_asker", "chat_id", "staff_user_id"),)

    chat_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    message_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    customer_id: int = Field(foreign_key="customer.id", index=True)
    staff_user_id: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class HeldBooking(SQLModel, table=True):
    """A booking (purchase, goodwill, redemption) a staff member asked for on their own customer
    account, waiting for another member of the team or an owner to confirm it (config
    ``staff.self_booking: confirm``); ``details`` hold what is needed to book it then."""

    __tablename__ = "held_booking"

    id: int | None = Field(default=None, primary_key=True)
    nonce: str = Field(max_length=12)
    kind: str = Field(max_length=16)  # purchase | goodwill | redemption
    customer_id: int = Field(foreign_key="customer.id", index=True)
    requested_by: int = Field(sa_type=BigInteger)
    requested_name: str = Field(max_length=128)
    details: dict[str, Any] = Field(sa_type=JSON)
    status: str = Field(max_length=16)  # held | booked | declined
    decided_by: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Closure(SQLModel, table=True):
    """A day or a run of days the owner closed the shop on top of the opening hours ("heute
    geschlossen", Betriebsferien), posted with /geschlossen. Ticket deadlines skip these days
    and the FAQ's opening-hours answer names them."""

    __tablename__ = "closure"

    id: int | None = Field(default=None, primary_key=True)
    first_day: date = Field(sa_type=Date)  # the shop's calendar days, both included
    last_day: date = Field(sa_type=Date, index=True)
    reason: str | None = Field(default=None, max_length=200)  # shown to customers as written
    created_by: int = Field(sa_type=BigInteger)  # the owner's Telegram id
    created_at: datetime = Field(sa_type=UTCDateTime)
