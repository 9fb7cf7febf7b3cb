"""Time as a dependency, so rules can be tested at any moment without waiting."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ShiftedClock:
    """The system clock moved forward by the seconds written in a file (0 if the file is
    missing or empty). For end-to-end tests of timed behaviour - surveys, reminders - which
    move time by writing the file; the bot uses it only when STAMMGAST_TEST_CLOCK_FILE is set."""

    def __init__(self, offset_file: str):
        self.offset_file = offset_file

    def now(self) -> datetime:
        try:
            with open(self.offset_file, encoding="utf-8") as file:
                offset = float(file.read().strip() or 0)
        except (FileNotFoundError, ValueError):
            offset = 0.0
        return datetime.now(timezone.utc) + timedelta(seconds=offset)
