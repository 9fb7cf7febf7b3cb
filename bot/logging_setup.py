"""Structured logs: one JSON object per line, with the bot token never in them.

The token is part of every Bot API URL, so any library that logs a URL would leak it; a
filter on the handler masks it in the final text, whatever logged it.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class RedactingFormatter(logging.Formatter):
    """Wraps a formatter and replaces secrets in its output."""

    def __init__(self, inner: logging.Formatter, secrets: list[str]):
        super().__init__()
        self.inner = inner
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return text


OWN_LOGGERS = ("bot", "domain", "nlu", "storage")


def configure_logging(secrets: list[str], level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(JsonFormatter(), secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # DEBUG is for our own lines only (timings, no customer data): PTB's debug output carries
    # whole updates and message texts, which never belong in a log.
    root.setLevel(max(level, logging.INFO))
    for own in OWN_LOGGERS:
        logging.getLogger(own).setLevel(level)
    # httpx logs every request URL (which contains the token) at INFO; polling makes that noise.
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
