"""Timed work beside the chat: SLA reminders and escalations, follow-ups after a ticket was
solved, the runs of planned campaigns, the daily milestone greetings, the nightly purge of texts
whose retention period ended, the owners' Monday digest, the tier points kept on the customer
rows for segments, and the owners and staff group another replica may have changed.
APScheduler triggers a short check every second; the deadlines themselves live in the database
(see ``domain.tickets.process_timers``; the last day of the milestones and of the purge is a
``JobRun`` row), so a restart loses none of them and a clock moved forward in tests is seen at
the next check."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import digest as digest_sender
from bot.services import Services
from domain import campaigns, data_rights, digest, milestones, retention, tickets

log = logging.getLogger(__name__)

CHECK_SECONDS = 1.0  # one indexed query; a deadline is never more than this late
MILESTONES_RETRY = timedelta(minutes=1)  # after a failed milestone scan (not every second)
# Kept tier points that no longer fit are only slower to count (segments fall back to the
# ledger for them), so refreshing them every few minutes, and right after a start, is enough.
TIER_POINTS_SECONDS = 300
# An owner made or a staff group chosen through another replica: followed within this time.
TEAM_SECONDS = 30


class Timers:
    def __init__(self, services: Services):
        self.services = services
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.milestone_rules = milestones.rules_from(services.config)
        # The latest day this process saw scanned (by itself or a replica): until the next day
        # comes, the milestone check compares dates and does not touch the database.
        self._scanned: date | None = None
        self._retry_at: datetime | None = None
        # The retention purge: the day this process saw claimed, whether a purge it claimed is
        # still unfinished (a failed batch is retried, without claiming again) and when to retry.
        self.retention_rules = retention.rules_from(services.config)
        self._purge_day: date | None = None
        self._purging = False
        self._purge_retry_at: datetime | None = None
        # The Monday digest: the Monday whose digests this process saw queued for every owner
        # (until the next Monday's hour the check compares dates only), and when to retry.
        self._digest_monday: date | None = None
        self._digest_retry_at: datetime | None = None

    def start(self) -> None:
        # One run at a time; a run that was late is not repeated (the next one catches up).
        self.scheduler.add_job(self.check, "interval", seconds=CHECK_SECONDS, id="ticket-timers",
                               max_instances=1, coalesce=True, misfire_grace_time=None)
        self.scheduler.add_job(self.run_campaigns, "interval", seconds=CHECK_SECONDS, id="campaigns",
                               max_instances=1, coalesce=True, misfire_grace_time=None)
        self.scheduler.add_job(self.run_milestones, "interval", seconds=CHECK_SECONDS, id="milestones",
                               max_instances=1, coalesce=True, misfire_grace_time=None)
        self.scheduler.add_job(self.run_retention, "interval", seconds=CHECK_SECONDS, id="retention",
                               max_instances=1, coalesce=True, misfire_grace_time=None)
        self.scheduler.add_job(self.run_digest, "interval", seconds=CHECK_SECONDS, id="digest",
                               max_instances=1, coalesce=True, misfire_grace_time=None)
        self.scheduler.add_job(self.refresh_kept_figures, "interval", seconds=TIER_POINTS_SECONDS,
                               id="tier-points", max_instances=1, coalesce=True, misfire_grace_time=None,
                               next_run_time=datetime.now(UTC))
        self.scheduler.add_job(self.follow_team, "interval", seconds=TEAM_SECONDS, id="team",
                               max_instances=1, coalesce=True, misfire_grace_time=None)
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    async def check(self) -> int:
        s = self.services
        try:
            queued = await s.db(tickets.process_timers, s.ticket_rules, s.now())
        except Exception:
            log.exception("ticket timers failed; trying again at the next check")
            return 0
        if queued:
            log.info("ticket timers queued messages", extra={"messages": queued})
        return queued

    async def follow_team(self) -> bool:
        try:
            return await self.services.follow_team()
        except Exception:
            log.exception("reading the owners and the staff group failed; trying again later")
            return False

    async def run_campaigns(self) -> int:
        """Start the runs of planned campaigns whose time has come (their due times are in the
        database), then queue the recipients of every run still being queued, a page per
        transaction (a planned run, or a /broadcast whose queuing a stop interrupted)."""
        s = self.services
        queued = 0
        try:
            await s.db(campaigns.run_due, s.campaign_rules, s.now())
            while (page := await s.db(campaigns.queue_next_page, s.campaign_rules, s.now())) is not None:
                queued += page.queued
                if page.done:
                    log.info("campaign run queued", extra={"campaign": page.campaign_id, "messages": page.total})
        except Exception:
            log.exception("planned campaigns failed; trying again at the next check")
        if queued:
            log.info("planned campaign queued messages", extra={"messages": queued})
        return queued

    async def run_milestones(self) -> int:
        """The milestone scan: once a day from ``milestones.send_hour`` (shop time), and right
        after a start when the day's scan is still due (days the bot was down are caught up)."""
        s, rules = self.services, self.milestone_rules
        now = s.now()
        day = milestones.latest_day(now, rules.settings.send_hour, rules.zone)
        if day == self._scanned or (self._retry_at is not None and now < self._retry_at):
            return 0
        try:
            queued = await s.db(milestones.run_daily, rules, now)
        except Exception:
            log.exception("milestone scan failed; trying again in a minute")
            self._retry_at = now + MILESTONES_RETRY
            return 0
        self._scanned, self._retry_at = day, None
        log.info("milestones scanned", extra={"day": day.isoformat(), "messages": queued})
        return queued

    async def run_retention(self) -> retention.Purged | None:
        """Empty the texts whose retention period ended: once a day from ``retention.RUN_HOUR``
        (shop time) and right after a start when the day's purge is still due; of several
        replicas the one that claims the day does it, in batches (``domain.retention``)."""
        s, rules = self.services, self.retention_rules
        now = s.now()
        day = retention.purge_day(now, rules.zone)
        if (day == self._purge_day and not self._purging) or (
                self._purge_retry_at is not None and now < self._purge_retry_at):
            return None
        try:
            if day != self._purge_day:
                self._purging = await s.db(retention.claim_day, rules, now)
                self._purge_day = day
            if not self._purging:
                return None  # done already, by this process before a restart or by a replica
            purged = retention.Purged()
            while (batch := await s.db(retention.purge_batch, rules, now)).total:
                purged += batch
            told = erased = 0
            while told_now := await s.db(retention.tell_inactive_batch, rules, now):
                told += told_now
            while due := await s.db(retention.inactive_to_erase, rules, now):
                for customer_id in due:  # one transaction each: an erasure touches many tables
                    erased += await s.db(data_rights.erase_customer, customer_id, now, data_rights.RETENTION_JOB)
        except Exception:
            log.exception("retention purge failed; trying again in a minute")
            self._purge_retry_at = now + MILESTONES_RETRY
            return None
        self._purging, self._purge_retry_at = False, None
        log.info("retention purge done", extra={"day": day.isoformat(), **asdict(purged),
                                                "inactive_told": told, "inactive_erased": erased})
        return purged

    async def run_digest(self) -> int:
        """The owners' Monday digest: from ``reports.digest_hour`` on Monday (shop time), and at a
        start later in the same week when it is still missing (``domain.digest.due_monday``).
        Returns how many rows were queued; the outbox keys keep it to one per owner and week."""
        s = self.services
        now = s.now()
        if s.config.reports.digest_hour is None:  # the shop switched the digest off
            return 0
        monday = digest.due_monday(now, s.config.reports.digest_hour, ZoneInfo(s.config.shop.timezone))
        if monday is None or monday == self._digest_monday or (
                self._digest_retry_at is not None and now < self._digest_retry_at):
            return 0
        try:
            queued = await digest_sender.queue_week(s, monday)
        except Exception:
            log.exception("Monday digest failed; trying again in a minute")
            self._digest_retry_at = now + MILESTONES_RETRY
            return 0
        self._digest_monday, self._digest_retry_at = monday, None
        if queued:
            log.info("Monday digest queued", extra={"week": digest.week_label(monday), "messages": queued})
        return queued

    async def refresh_kept_figures(self) -> int:
        """Sum the tier points and year revenues again where the kept ones no longer fit (after
        purchases, and when old points or purchases leave their window), and keep the report's
        midnights (``report_days``)."""
        try:
            refreshed = await self.services.refresh_kept_figures()
            days = await self.services.keep_report_days()
        except Exception:
            log.exception("refreshing the kept figures failed; trying again later")
            return 0
        if refreshed or days:
            log.info("kept figures refreshed", extra={"customers": refreshed, "report_days": days})
        return refreshed
