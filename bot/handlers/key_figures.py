"""``/bericht [Zeitraum]`` (``/report``): the owner's key figures (domain.reports) as one
dashboard picture and a short text with the five that matter most; ``/bericht hilfe`` says how
each is counted. Owners only (bot.access); works privately and in the staff group.
"""

from __future__ import annotations

import asyncio
import logging
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import ContextTypes

from bot import dashboard
from bot.chat import send_html
from bot.owner import Owner, arguments, owner_of, say
from bot.services import Services, services
from bot.texts import Html
from bot.handlers import campaigns
from domain import holdout, reports
from domain.rules import nps

log = logging.getLogger(__name__)

HELP_WORDS = {"hilfe", "help", "?", "erklärung", "erklaerung"}


async def report_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bericht [Zeitraum]: the dashboard and the five key figures; /bericht hilfe: the definitions."""
    s = services(context)
    owner = await owner_of(update, context)
    typed = " ".join(arguments(update).split())
    if typed.lower() in HELP_WORDS:
        await say(context, owner, "key_figures.help", active_days=s.config.reports.active_days)
        return
    zone = ZoneInfo(s.config.shop.timezone)
    try:
        period = reports.parse_period(typed, s.now(), zone)
    except nps.PeriodError as error:
        log.info("report period refused", extra={"reason": error.reason})
        await say(context, owner, f"key_figures.period_errors.{error.reason}", value=typed[:40], max_days=nps.MAX_DAYS)
        await say(context, owner, "key_figures.period_examples")
        return
    await context.bot.send_chat_action(owner.chat_id, ChatAction.UPLOAD_PHOTO)
    report = await s.count_report(period, reports.previous(period))
    # matplotlib draws for about a second: off the event loop, so other chats are answered meanwhile
    picture = await asyncio.to_thread(dashboard.render, report, s.texts, owner.voice, zone)
    log.info("key figures report", extra={"period": period.kind, "days": (period.end - period.start).days})
    await _send(context, s, owner, report, picture, zone)


async def _send(context: ContextTypes.DEFAULT_TYPE, s: Services, owner: Owner, report: reports.Report,
                picture: bytes, zone: ZoneInfo) -> None:
    formats = dashboard.Formats(s.texts, owner.voice)
    first, last = report.current.period.days(zone)
    caption = s.texts.render("key_figures.caption", owner.voice, start=formats.day(first), end=formats.day(last))
    await context.bot.send_photo(owner.chat_id, picture, caption=caption, parse_mode="HTML")
    effects = await s.db(holdout.started_between, report.current.period.start, report.current.period.end,
                         s.config.campaigns.effect_days, s.now())
    await send_html(context.bot, owner.chat_id, summary_text(s, owner, report, zone) + _effects_text(s, owner, effects))


def _effects_text(s: Services, owner: Owner, effects: list) -> str:
    """The campaigns of the period held against their control groups: did they bring anyone in?"""
    if not effects:
        return ""
    blocks = [campaigns.effect_block(s, owner.voice, campaign, effect) for campaign, effect in effects]
    return "\n\n" + "\n\n".join([s.texts.render("key_figures.campaign_effects", owner.voice), *blocks])


def summary_text(s: Services, owner: Owner, report: reports.Report, zone: ZoneInfo) -> str:
    """The five figures that matter most, each with its change against the period before."""
    formats = dashboard.Formats(s.texts, owner.voice)
    every = dashboard.measures(report)
    lines = [_line(s, owner, formats, every[key]) for key in list(every)[:dashboard.TOP_FIVE]]
    first, last = report.current.period.days(zone)
    before_first, before_last = report.previous.period.days(zone)
    return s.texts.render("key_figures.summary", owner.voice, start=formats.day(first), end=formats.day(last),
                          previous_start=formats.day(before_first), previous_end=formats.day(before_last),
                          lines=Html("\n".join(lines)))


def _line(s: Services, owner: Owner, formats: dashboard.Formats, measure: dashboard.Measure) -> str:
    change = (s.texts.render("key_figures.change", owner.voice, arrow=formats.arrow(measure),
                             difference=formats.signed(measure)) if formats.arrow(measure) else "")
    return s.texts.render("key_figures.summary_line", owner.voice, value=formats.value(measure), change=Html(change),
                          label=s.texts.plain(f"key_figures.labels.{measure.key}", owner.voice)).rstrip()
