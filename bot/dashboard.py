"""The key figures of ``domain.reports`` for people: each figure with its value and its change
against the period before (arrow and difference, in the owner's language, Babel's number and
date formats), and the one-picture dashboard (a PNG drawn with matplotlib's Agg canvas, no
display needed) sized for a phone held upright: 1080 × 1920 pixels.

Labels come from the locale files (``key_figures.*``); nothing here knows German words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from bot import formatting
from bot.texts import Texts, Voice
from domain import reports
from domain.rules import nps

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COUNT, PERCENT, DECIMAL, MONEY, MINUTES, HOURS, SCORE = "count", "percent", "decimal", "money", "minutes", "hours", "score"
GOOD, BAD, NEUTRAL = "#1b7f3b", "#c0392b", "#6b6b6b"
INK, MUTED, CARD, LINE = "#1d1d1f", "#5f6368", "#f3f1ec", "#d9d4ca"
ABC_COLOURS = ("#2e6f95", "#7fb3d5", "#d6e6f2")
WIDTH, HEIGHT, DPI = 10.8, 19.2, 100  # inches at 100 dpi: 1080 × 1920 px


@dataclass(frozen=True)
class Measure:
    key: str  # key_figures.labels.<key>
    current: int | Decimal | None
    previous: int | Decimal | None
    kind: str
    better: int = 1  # 1: higher is better, -1: lower is better, 0: neither


def _nps(figures: reports.Figures) -> int | None:
    return figures.nps.summary.nps


# Every figure, in the order the text and the picture use; the first five are the text's.
_MEASURES: tuple[tuple[str, Callable[[reports.Figures], int | Decimal | None], str, int], ...] = (
    ("retention", lambda f: f.retention_rate, PERCENT, 1),
    ("customers", lambda f: f.customers_end, COUNT, 1),
    ("repeat_rate", lambda f: f.repeat_rate, PERCENT, 1),
    ("average", lambda f: f.average_cents, MONEY, 1),
    ("nps", _nps, SCORE, 1),
    ("new_customers", lambda f: f.new_customers, COUNT, 1),
    ("frequency", lambda f: f.frequency, DECIMAL, 1),
    ("revenue", lambda f: f.revenue_cents, MONEY, 1),
    ("tickets", lambda f: f.tickets, COUNT, 0),
    ("first_answer", lambda f: f.first_answer_minutes, MINUTES, -1),
    ("missed", lambda f: f.deadlines_missed, COUNT, -1),
    ("solved", lambda f: f.solved_hours, HOURS, -1),
    ("points_issued", lambda f: f.points_issued, COUNT, 0),
    ("points_redeemed", lambda f: f.points_redeemed, COUNT, 0),
    ("points_outstanding", lambda f: f.points_outstanding, COUNT, 0),
    ("rewards", lambda f: f.rewards_redeemed, COUNT, 1),
    ("campaign_sent", lambda f: f.campaign_sent, COUNT, 0),
    ("campaign_reached", lambda f: f.campaign_reached, COUNT, 1),
    ("coupons", lambda f: f.coupons_redeemed, COUNT, 1),
    ("answers", lambda f: f.nps.summary.count, COUNT, 1),
)
TOP_FIVE = 5


def measures(report: reports.Report) -> dict[str, Measure]:
    return {key: Measure(key, read(report.current), read(report.previous), kind, better)
            for key, read, kind, better in _MEASURES}


class Formats:
    """Values and changes of measures in one voice."""

    def __init__(self, texts: Texts, voice: Voice):
        self.texts, self.voice = texts, voice
        self.locale = formatting.LOCALES.get(voice.language, "de_DE")

    def _number(self, value, pattern: str) -> str:
        return format_decimal(value, format=pattern, locale=self.locale)

    def _plain(self, value, kind: str) -> str:
        if kind == MONEY:
            return format_currency(Decimal(value) / 100, "EUR", locale=self.locale)
        if kind in (PERCENT, MINUTES, HOURS):
            return self._number(value, "#,##0.0")
        if kind == DECIMAL:
            return self._number(value, "#,##0.00")
        return self._number(value, "#,##0")

    def value(self, measure: Measure) -> str:
        if measure.current is None:
            return self.texts.plain("key_figures.no_value", self.voice)
        return self._unit(self._plain(measure.current, measure.kind), measure.kind, absolute=True)

    def _unit(self, text: str, kind: str, absolute: bool) -> str:
        unit = {PERCENT: "percent" if absolute else "points", MINUTES: "minutes", HOURS: "hours"}.get(kind)
        return self.texts.plain(f"key_figures.{unit}", self.voice, value=text) if unit else text

    def arrow(self, measure: Measure) -> str:
        difference = self.difference(measure)
        if difference is None:
            return ""
        return "↑" if difference > 0 else "↓" if difference < 0 else "→"

    @staticmethod
    def difference(measure: Measure) -> Decimal | int | None:
        if measure.current is None or measure.previous is None:
            return None
        return measure.current - measure.previous

    def signed(self, measure: Measure) -> str:
        """"+5,0 Pp.", "−3", "0" (a real minus sign); "–" when one side has no value."""
        difference = self.difference(measure)
        if difference is None:
            return self.texts.plain("key_figures.no_value", self.voice)
        sign = "+" if difference > 0 else "−" if difference < 0 else ""
        return self._unit(sign + self._plain(abs(difference), measure.kind), measure.kind, absolute=False)

    def change(self, measure: Measure) -> str:
        """"↑ +5,0 Pp.", "↓ −3", "→ 0"."""
        return f"{self.arrow(measure)} {self.signed(measure)}".strip()

    def colour(self, measure: Measure) -> str:
        difference = self.difference(measure)
        if not difference or not measure.better:
            return NEUTRAL
        return GOOD if (difference > 0) == (measure.better > 0) else BAD

    def whole(self, value) -> str:
        return self._number(value, "#,##0")

    def trend_label(self, point: nps.TrendPoint, by_month: bool) -> str:
        if by_month:
            return format_date(point.start, "MMM", locale=self.locale)
        return self.texts.plain("reports.nps.week", self.voice, week=str(point.start.isocalendar()[1]))

    def day(self, day: date) -> str:
        return formatting.short_date(day, self.voice.language)


# --- the picture ------------------------------------------------------------------------------

def render(report: reports.Report, texts: Texts, voice: Voice, zone: ZoneInfo) -> bytes:
    """The dashboard as PNG bytes: eight tiles, the ABC split, the NPS trend and the tiers, and
    three tables (requests, loyalty, campaigns), every figure with its change."""
    # matplotlib is imported here, not at the top: it costs the bot seconds at every start,
    # and only a report draws. Figure and the Agg canvas need no display (no pyplot).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    formats = Formats(texts, voice)
    label = lambda key, **params: texts.plain(f"key_figures.{key}", voice, **params)  # noqa: E731
    every = measures(report)
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, facecolor="white")
    first, last = report.current.period.days(zone)
    before_first, before_last = report.previous.period.days(zone)
    figure.text(0.04, 0.985, label("title", start=formats.day(first), end=formats.day(last)),
                fontsize=30, fontweight="bold", color=INK, va="top")
    figure.text(0.04, 0.953, label("compared", start=formats.day(before_first), end=formats.day(before_last)),
                fontsize=19, color=MUTED, va="top")
    for index, key in enumerate(TILES):
        _tile(figure, 0.04 + (index % 2) * 0.47, 0.835 - (index // 2) * 0.094, every[key], formats, label)
    _abc(figure, report.current.abc, formats, label, last)
    _nps_trend(figure, report.current, formats, label)
    _tiers(figure, report.current.tiers, formats, label)
    for index, (section, keys) in enumerate(TABLES):
        _table(figure, 0.19 - index * 0.091, label(f"sections.{section}"), [every[k] for k in keys], formats, label)
    buffer = BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


TILES = ("retention", "customers", "new_customers", "repeat_rate", "frequency", "average", "revenue", "nps")
TABLES = (("service", ("tickets", "first_answer", "missed", "solved")),
          ("loyalty", ("points_issued", "points_redeemed", "points_outstanding", "rewards")),
          ("campaigns", ("campaign_sent", "campaign_reached", "coupons")))


def _card(figure: Figure, x: float, y: float, width: float, height: float) -> Callable[..., object]:
    """A shaded box, and a function placing text at a point of it (0..1 in both directions).
    A patch rather than an axes: 14 axes took half the render time just being set up."""
    from matplotlib.patches import Rectangle

    figure.add_artist(Rectangle((x, y), width, height, transform=figure.transFigure, facecolor=CARD,
                                edgecolor="none"))
    return lambda left, up, text, **style: figure.text(x + left * width, y + up * height, text, **style)


def _tile(figure: Figure, x: float, y: float, measure: Measure, formats: Formats, label) -> None:
    put = _card(figure, x, y, 0.45, 0.085)
    put(0.05, 0.80, label(f"labels.{measure.key}"), fontsize=19, color=MUTED, va="center")
    put(0.05, 0.45, formats.value(measure), fontsize=36, fontweight="bold", color=INK, va="center")
    put(0.05, 0.14, formats.change(measure), fontsize=19, color=formats.colour(measure), va="center")


def _heading(figure: Figure, x: float, y: float, text: str) -> None:
    figure.text(x, y, text, fontsize=22, fontweight="bold", color=INK, va="bottom")


def _bare(axes) -> None:
    axes.set_xticks([])
    for spine in axes.spines.values():
        spine.set_visible(False)
    axes.yaxis.set_tick_params(length=0)


def _abc(figure: Figure, abc: reports.Abc, formats: Formats, label, end: date) -> None:
    _heading(figure, 0.04, 0.515, label("sections.abc", end=formats.day(end)))
    axes = figure.add_axes((0.28, 0.445, 0.68, 0.063))
    rows = ((label("sections.abc_revenue"), [abc.revenue_share(c) for c in (abc.a, abc.b, abc.c)]),
            (label("sections.abc_customers"), [abc.customer_share(c) for c in (abc.a, abc.b, abc.c)]))
    for row, (_, shares) in enumerate(rows):
        left = 0.0
        for name, share, colour in zip("ABC", shares, ABC_COLOURS):
            width = float(share or 0)
            axes.barh(row, width, left=left, color=colour, height=0.8)
            if width >= 9:  # a narrower segment has no room for its label
                axes.text(left + width / 2, row, f"{name} {formats.whole(share)} %", ha="center", va="center",
                          fontsize=18, color="white" if name == "A" else INK, fontweight="bold")
            left += width
    axes.set_xlim(0, 100)
    axes.set_yticks([0, 1], [name for name, _ in rows], fontsize=18, color=INK)
    _bare(axes)


def _nps_trend(figure: Figure, figures: reports.Figures, formats: Formats, label) -> None:
    by_month = figures.period.trend_by == "month"
    _heading(figure, 0.04, 0.405, label("sections.nps_by_month" if by_month else "sections.nps"))
    axes = figure.add_axes((0.1, 0.33, 0.38, 0.07))
    trend = figures.nps.trend
    points = [(i, p.nps) for i, p in enumerate(trend) if p.nps is not None]
    axes.axhline(0, color=LINE, linewidth=1.5)
    if points:
        axes.plot([i for i, _ in points], [v for _, v in points], marker="o", color="#2e6f95", linewidth=3,
                  markersize=9)
    axes.set_ylim(-100, 100)
    axes.set_xlim(-0.5, max(len(trend) - 0.5, 0.5))
    axes.set_yticks([-100, 0, 100], ["−100", "0", "100"], fontsize=14, color=MUTED)
    _bare(axes)
    step = max(1, -(-len(trend) // 6))  # at most six labels on a phone's width
    axes.set_xticks(range(0, len(trend), step), [formats.trend_label(p, by_month) for p in trend[::step]],
                    fontsize=14, color=MUTED)
    axes.xaxis.set_tick_params(length=0)
    topics = ", ".join(formats.texts.plain(f"topics.{topic}", formats.voice) for topic, _ in figures.nps.top_topics[:3])
    figure.text(0.04, 0.302, label("sections.topics", topics=topics) if topics else label("sections.no_topics"),
                fontsize=16, color=MUTED, va="top", wrap=True)


def _tiers(figure: Figure, tiers: tuple[tuple[str, int], ...], formats: Formats, label) -> None:
    _heading(figure, 0.55, 0.405, label("sections.tiers"))
    axes = figure.add_axes((0.66, 0.33, 0.30, 0.07))
    names = [name for name, _ in tiers][::-1]
    counts = [count for _, count in tiers][::-1]
    axes.barh(range(len(names)), counts, color="#c9a227", height=0.7)
    top = max(counts, default=0) or 1
    for row, count in enumerate(counts):
        axes.text(count + top * 0.03, row, formats.whole(count), va="center", fontsize=16, color=INK)
    axes.set_xlim(0, top * 1.6)
    axes.set_yticks(range(len(names)), names, fontsize=16, color=INK)
    _bare(axes)


def _table(figure: Figure, y: float, title: str, rows: list[Measure], formats: Formats, label) -> None:
    """A full-width card: the title, then per figure its name, value and change in three columns."""
    put = _card(figure, 0.04, y, 0.92, 0.085)
    put(0.03, 0.85, title, fontsize=20, fontweight="bold", color=INK, va="center")
    for index, measure in enumerate(rows):
        row_y = 0.64 - index * 0.19
        put(0.03, row_y, label(f"labels.{measure.key}"), fontsize=17, color=MUTED, va="center")
        put(0.66, row_y, formats.value(measure), fontsize=18, fontweight="bold", color=INK, va="center",
                  ha="right")
        put(0.97, row_y, formats.change(measure), fontsize=17, color=formats.colour(measure), va="center",
                  ha="right")
