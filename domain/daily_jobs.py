"""Jobs that run once a day (the milestone scan, the retention purge): the last day each one
did is a ``JobRun`` row, so a restart knows what is still to do, and a process claims a day by
moving it forward in one conditional UPDATE, so of two bot processes on one database only one
runs the job for that day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.models import JobRun


def last_done(session: Session, job: str) -> date | None:
    return session.exec(select(JobRun.last_run_on).where(JobRun.name == job)).first()


def claim(session: Session, job: str, previous: date | None, day: date, now: datetime) -> bool:
    """Move the job's day from ``previous`` to ``day`` in one conditional UPDATE: of two
    processes that read the same ``previous``, exactly one succeeds (the other's UPDATE waits
    for the first to commit and then finds nothing to change)."""
    if previous is None and session.get(JobRun, job) is None:
        try:
            with session.begin_nested():  # another process may be inserting it too
                session.add(JobRun(name=job))
        except IntegrityError:
            pass
    unchanged = JobRun.last_run_on.is_(None) if previous is None else JobRun.last_run_on == previous
    claimed = session.execute(update(JobRun).where(JobRun.name == job, unchanged)
                              .values(last_run_on=day, last_run_at=now)).rowcount
    return claimed == 1
