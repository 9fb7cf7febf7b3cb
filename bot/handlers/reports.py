"""The owner's reports: ``/nps [period]`` (score, answers, trend, top topics) and closing the
loop with ``/loop <topic> <message>`` (preview, then "Senden" through the outbox).

Only admins get anything (bot.owner). Both work in the owner's private chat and in the
staff group.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot import formatting
from bot.chat import send_html
from bot.owner import arguments, close_preview, owner_of, say
from bot.services import Services, services
from bot.texts import LANGUAGES, Html, Texts, Voice
from domain import loop, surveys
from domain.rules import nps

log = logging.getLogger(__name__)

LOOP_PATTERN = r"^loop:(send|cancel):[0-9a-f]{12}$"
LOOP_SEND, LOOP_CANCEL = "loop:send:", "loop:cancel:"  # + the preview's nonce


# --- /nps --------------------------------------------------------------------------------------

async def nps_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/nps [period]: the NPS report of the period (default: the last 90 days)."""
    s = services(context)
    owner = await owner_of(update, context)
    typed = " ".join(arguments(update).split())
    zone = ZoneInfo(s.config.shop.timezone)
    try:
        period = nps.parse_period(typed, s.now(), zone)
    except nps.PeriodError as error:
        log.info("nps period refused", extra={"reason": error.reason})
        await say(context, owner, f"reports.nps.period_errors.{error.reason}", value=typed[:40],
                   max_days=nps.MAX_DAYS)
        await say(context, owner, "reports.nps.period_examples", days=nps.DEFAULT_DAYS)
        return
    report = await s.db(surveys.report, period, s.config.shop.timezone)
    log.info("nps report", extra={"answers": report.summary.count, "period": period.kind})
    await send_html(context.bot, owner.chat_id, report_text(s.texts, owner.voice, report, period, zone))


def report_text(texts: Texts, voice: Voice, report: surveys.Report, period: nps.Period, zone: ZoneInfo) -> str:
    """The report as Telegram HTML; a kind note instead when nobody answered in the period."""
    first_day = period.start.astimezone(zone).date()
    last_day = (period.end - timedelta(microseconds=1)).astimezone(zone).date()
    if not report.summary.count:
        return texts.render("reports.nps.no_answers", voice, start=first_day, end=last_day)
    lines = [texts.render("reports.nps.title", voice, start=first_day, end=last_day), ""]
    lines += _summary_lines(texts, voice, report.summary)
    lines += ["", texts.render(f"reports.nps.trend_title_{period.trend_by}", voice)]
    lines += [_trend_line(texts, voice, point, period.trend_by, _spans_years(report.trend))
              for point in report.trend]
    lines += [""] + _topic_lines(texts, voice, report.top_topics)
    return "\n".join(lines)


def signed(score: int) -> str:
    """"+23", "0", "−12" (a real minus sign, as in the points history)."""
    return f"+{score}" if score > 0 else f"−{abs(score)}" if score < 0 else "0"


def _answers(texts: Texts, voice: Voice, count: int) -> str:
    return texts.render("reports.nps.answers_one" if count == 1 else "reports.nps.answers", voice, count=count)


def _summary_lines(texts: Texts, voice: Voice, summary: nps.Summary) -> list[str]:
    score = texts.render("reports.nps.score", voice, nps=signed(summary.nps),
                         answers=Html(_answers(texts, voice, summary.count)))
    groups = ((nps.Group.PROMOTER, summary.promoters), (nps.Group.PASSIVE, summary.passives),
              (nps.Group.DETRACTOR, summary.detractors))
    return [score] + [texts.render(f"reports.nps.group_{group.value}", voice, count=count, share=summary.share(group))
                      for group, count in groups]


def _spans_years(trend: list[nps.TrendPoint]) -> bool:
    return len({point.start.isocalendar()[0] for point in trend}) > 1


def _trend_label(texts: Texts, voice: Voice, point: nps.TrendPoint, by: nps.TrendBy, with_year: bool) -> str:
    if by == "month":
        locale = formatting.LOCALES.get(voice.language, "de_DE")
        return format_date(point.start, "LLLL yyyy", locale=locale)  # "Oktober 2026"
    year, week, _ = point.start.isocalendar()
    # Plain str(): a week or year number takes no thousands separator ("KW 1/2027", not "2.027").
    return texts.render("reports.nps.week_of_year" if with_year else "reports.nps.week", voice,
                        week=str(week), year=str(year))


def _trend_line(texts: Texts, voice: Voice, point: nps.TrendPoint, by: nps.TrendBy, with_year: bool) -> str:
    label = Html(_trend_label(texts, voice, point, by, with_year))
    if not point.count:
        return texts.render("reports.nps.trend_empty", voice, label=label)
    return texts.render("reports.nps.trend_line", voice, label=label, nps=signed(point.nps),
                        answers=Html(_answers(texts, voice, point.count)))


def _topic_lines(texts: Texts, voice: Voice, top_topics: list[tuple[str, int]]) -> list[str]:
    if not top_topics:
        return [texts.render("reports.nps.no_topics", voice)]
    lines = [texts.render("reports.nps.topics_title", voice)]
    lines += [texts.render("reports.nps.topic_line", voice, topic=texts.plain(f"topics.{topic}", voice), count=count)
              for topic, count in top_topics]
    example = top_topics[0][0]
    return lines + ["", texts.render("reports.nps.loop_hint", voice, topic=example)]


# --- /loop -------------------------------------------------------------------------------------

def topic_names(texts: Texts) -> dict[str, list[str]]:
    """The labels owners know the topics by (their overrides of the locale files included)."""
    return {topic: [texts.plain(f"topics.{topic}", Voice(language)) for language in LANGUAGES]
            for topic in loop.LOOP_TOPICS}


def _topic_list(texts: Texts, voice: Voice) -> Html:
    return Html("\n".join(texts.render("reports.loop.topic_item", voice, topic=topic,
                                       label=texts.plain(f"topics.{topic}", voice)) for topic in loop.LOOP_TOPICS))


async def loop_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/loop <topic> <message>: a preview with the number of recipients, then Senden/Abbrechen."""
    s = services(context)
    owner = await owner_of(update, context)
    try:
        request = loop.parse_request(arguments(update), topic_names(s.texts))
    except loop.LoopError as error:
        log.info("loop request refused", extra={"reason": error.reason})
        await say(context, owner, f"reports.loop.errors.{error.reason}", value=error.value, max=loop.MAX_CHARS)
        await say(context, owner, "reports.loop.usage", topics=_topic_list(s.texts, owner.voice))
        return
    count = await s.db(loop.count_recipients, request.topic, s.now())
    label = s.texts.plain(f"topics.{request.topic}", owner.voice)
    days = loop.WINDOW.days
    if not count:
        await say(context, owner, "reports.loop.nobody", topic=label, days=days)
        return
    nonce = secrets.token_hex(6)
    await s.db(loop.remember, owner.customer_id, loop.PendingLoop(nonce, request.topic, request.message), s.now())
    await say(context, owner, "reports.loop.preview", _confirm_keyboard(s.texts, owner.voice, nonce),
               count=count, topic=label, days=days, message=Html(_customer_preview(s, request)))


def _customer_preview(s: Services, request: loop.LoopRequest) -> str:
    """The message as most customers will read it: the shop's language and du/Sie."""
    voice = s.staff_voice
    spec = loop.customer_message(request.topic, request.message)
    return s.texts.render(spec.template, voice, **spec.params)


def _confirm_keyboard(texts: Texts, voice: Voice, nonce: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.plain("reports.loop.send_button", voice), callback_data=LOOP_SEND + nonce),
        InlineKeyboardButton(texts.plain("reports.loop.cancel_button", voice), callback_data=LOOP_CANCEL + nonce),
    ]])


async def loop_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Senden / Abbrechen under a preview: only the owner who asked, only once."""
    s = services(context)
    query = update.callback_query
    owner = await owner_of(update, context)
    action, nonce = query.data.split(":")[1:]
    if action == "cancel":
        done = await s.db(loop.cancel, owner.customer_id, nonce, s.now())
        outcome = s.texts.render("reports.loop.cancelled", owner.voice) if done else None
    else:
        sent = await s.db(loop.send, owner.customer_id, nonce, s.now())
        outcome = None if sent is None else s.texts.render("reports.loop.sent", owner.voice, count=sent)
        if sent is not None:
            log.info("loop queued", extra={"recipients": sent})
    if outcome is None:  # a second press, an expired preview or forged data
        await query.answer(s.texts.plain("errors.done_button", owner.voice))
        return
    await query.answer()
    await close_preview(update, outcome)
