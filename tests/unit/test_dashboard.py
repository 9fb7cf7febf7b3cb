"""The dashboard's words and numbers (German and English formats, arrows, differences) and the
picture itself: a PNG of 1080 × 1920 pixels that decodes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

from PIL import Image

from bot import dashboard
from bot.texts import Texts, Voice
from domain import reports
from domain.rules import nps
from tests.unit.test_reports import figures

END = datetime(2026, 11, 1, tzinfo=timezone.utc)
PERIOD = nps.Period(END - timedelta(days=31), END, "month")
TEXTS = Texts("Laden")


def report() -> reports.Report:
    now = figures(period=PERIOD, customers_start=1000, customers_end=1100, new_customers=500, buyers=640,
                  repeat_buyers=210, purchases=1900, revenue_cents=2345678, tickets=3,
                  first_answer_minutes=Decimal("52.5"), tiers=(("Bronze", 1000), ("Silber", 90), ("Gold", 10)),
                  abc=reports.split_abc([(40000, 2), (5000, 3), (1000, 5)]))
    before = figures(period=reports.previous(PERIOD), customers_start=1000, customers_end=1000, new_customers=410,
                     buyers=600, repeat_buyers=180, purchases=1750, revenue_cents=2400000, tickets=3,
                     first_answer_minutes=Decimal("60"))
    return reports.Report(now, before)


def test_values_and_changes_in_german():
    formats = dashboard.Formats(TEXTS, Voice("de"))
    every = dashboard.measures(report())
    assert list(every)[:dashboard.TOP_FIVE] == ["retention", "customers", "repeat_rate", "average", "nps"]
    assert formats.value(every["retention"]) == "60,0\u00a0%"  # (1100 − 500) / 1000
    assert formats.change(every["retention"]) == "↑ +1,0\u00a0Pp."  # 59,0 before
    assert formats.value(every["revenue"]) == "23.456,78\u00a0€"
    assert formats.change(every["revenue"]) == "↓ −543,22\u00a0€"
    assert formats.colour(every["revenue"]) == dashboard.BAD
    assert formats.change(every["first_answer"]) == "↓ −7,5\u00a0Min."
    assert formats.colour(every["first_answer"]) == dashboard.GOOD  # faster answers are better
    assert formats.change(every["tickets"]) == "→ 0"
    assert formats.value(every["nps"]) == "–" and formats.change(every["nps"]) == "–"  # nobody answered


def test_values_in_english():
    formats = dashboard.Formats(TEXTS, Voice("en"))
    every = dashboard.measures(report())
    assert formats.value(every["revenue"]) == "€23,456.78"
    assert formats.change(every["repeat_rate"]) == "↑ +2.8\u00a0pp"  # 32.8 % after 30.0 %


def test_the_picture_is_a_phone_sized_png():
    picture = dashboard.render(report(), TEXTS, Voice("de"), ZoneInfo("Europe/Berlin"))
    assert picture.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(BytesIO(picture))
    image.load()
    assert image.size == (1080, 1920)
