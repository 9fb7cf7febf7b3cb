"""The Monday digest for the owners (``domain.digest`` says which week, to whom, and keeps it to
once): the dashboard picture ``/bericht`` draws (``bot.dashboard``) for last week, and as its
caption three sentences on the figures that changed most against the week before.

Both are drawn in the owner's language before the row is queued, not at send time like other
outbox texts: a picture cannot be rendered from a template by the dispatcher, and its caption
must speak the picture's language.

Which changes. Only figures that are better or worse when they move (``Measure.better``); a
neutral one (new requests, points issued) says how busy the week was, not how the shop does.
They are ranked by the size of the change against the larger of the two values (from 40 % to
50 % is 20 %, from 0 to 3 is 100 %); on a tie the figure that comes first on the dashboard
(the more important one) wins.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot import dashboard
from bot.services import Services
from bot.texts import Html, Texts, Voice
from domain import digest, reports

log = logging.getLogger(__name__)

SENTENCES = 3
MARKS = {dashboard.GOOD: "🟢", dashboard.BAD: "🔴"}  # the dashboard's colours, as a chat can show them


def size_of_change(measure: dashboard.Measure) -> Decimal:
    """How much a figure moved, relative to the larger of its two values (0 to 2)."""
    current, previous = Decimal(measure.current), Decimal(measure.previous)
    return abs(current - previous) / max(abs(current), abs(previous))


def largest_changes(measures: dict[str, dashboard.Measure], count: int = SENTENCES) -> list[dashboard.Measure]:
    """The ``count`` figures that are better or worse when they move and moved most, largest first."""
    moved = [(index, measure) for index, measure in enumerate(measures.values())
             if measure.better and dashboard.Formats.difference(measure)]
    moved.sort(key=lambda item: (-size_of_change(item[1]), item[0]))
    return [measure for _, measure in moved[:count]]


def sentence(texts: Texts, voice: Voice, formats: dashboard.Formats, measure: dashboard.Measure) -> str:
    """"🟢 Der Umsatz ist von 1.200,00 € auf 1.500,00 € gestiegen (+300,00 €).\""""
    direction = "rose" if dashboard.Formats.difference(measure) > 0 else "fell"
    said = texts.render(f"digest.{direction}", voice, subject=texts.plain(f"digest.subjects.{measure.key}", voice),
                        previous=formats.value(replace(measure, current=measure.previous)),
                        current=formats.value(measure), difference=formats.signed(measure))
    mark = MARKS.get(formats.colour(measure))
    return f"{mark} {said}" if mark else said


def caption(texts: Texts, voice: Voice, report: reports.Report, zone: ZoneInfo) -> str:
    """The picture's caption: the week, and what changed most (or that nothing did)."""
    formats = dashboard.Formats(texts, voice)
    said = [sentence(texts, voice, formats, measure) for measure in largest_changes(dashboard.measures(report))]
    first, last = report.current.period.days(zone)
    changes = "\n".join(said) if said else texts.render("digest.unchanged", voice)
    return texts.render("digest.caption", voice, week=str(first.isocalendar()[1]), start=formats.day(first),
                        end=formats.day(last), changes=Html(changes))


def nothing_to_report(week: reports.Figures) -> bool:
    """No customer, no purchase and no request in the week: a digest would only show zeros."""
    return week.customers_end == 0 and week.purchases == 0 and week.tickets == 0


async def queue_week(s: Services, monday: date) -> int:
    """Queue the digest of the week before ``monday`` for every owner who has none yet; returns
    how many rows were queued. The figures are read once; each language is drawn once."""
    owners = await s.read(digest.owners_waiting, monday, s.config.staff.admin_ids)
    if not owners:
        return 0
    zone = ZoneInfo(s.config.shop.timezone)
    report = await s.count_report(*digest.weeks(monday, zone))
    if nothing_to_report(report.current):
        return 0  # a shop that has just started (or had no customers at all): no empty dashboard
    drawn: dict[Voice, tuple[bytes, str]] = {}
    queued = 0
    for owner in owners:
        voice = s.voice(await s.read(digest.owner_language, owner, s.config.shop.language))
        if voice not in drawn:
            # matplotlib draws for about a second: off the event loop, so chats are answered meanwhile
            picture = await asyncio.to_thread(dashboard.render, report, s.texts, voice, zone)
            drawn[voice] = picture, caption(s.texts, voice, report, zone)
        queued += await s.db(digest.queue, monday, owner, *drawn[voice], s.now())
    return queued
