"""The bot with a movable clock, for end-to-end tests of timed behaviour (surveys, reminders,
campaigns, greetings): ``python -m tests.e2e.clock run`` is ``python -m bot run`` whose time
runs ahead by the seconds written in the file STAMMGAST_TEST_CLOCK_FILE names. Production has
no such setting; the harness starts this entry point when a test passes that variable."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta, timezone

CLOCK_FILE_VARIABLE = "STAMMGAST_TEST_CLOCK_FILE"


class ShiftedClock:
    """The system clock moved forward by the seconds written in a file (0 if the file is
    missing or empty); tests move time by writing the file."""

    def __init__(self, offset_file: str):
        self.offset_file = offset_file

    def now(self) -> datetime:
        try:
            with open(self.offset_file, encoding="utf-8") as file:
                offset = float(file.read().strip() or 0)
        except (FileNotFoundError, ValueError):
            offset = 0.0
        return datetime.now(timezone.utc) + timedelta(seconds=offset)


if __name__ == "__main__":
    from bot.__main__ import main

    sys.exit(main(clock=ShiftedClock(os.environ[CLOCK_FILE_VARIABLE])))
