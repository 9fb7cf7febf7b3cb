"""Runs the real bot (``python -m bot run``) as a child process against the fake Bot API.

Only the environment differs from production: TELEGRAM_API_BASE_URL points at the fake,
DATABASE_URL at a test database, NLU_URL at the test session's Rasa server. A test that moves
time passes STAMMGAST_TEST_CLOCK_FILE: that bot runs with the clock of ``tests.e2e.clock``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
from pathlib import Path

from tests.e2e.clock import CLOCK_FILE_VARIABLE
from tests.fakebotapi import DEFAULT_TOKEN, FakeBotApi

REPO = Path(__file__).resolve().parents[2]
STAFF_CHAT_ID = -1001234567890
ADMIN_ID = 900001
RECEIPT_SECRET = "k7Qz9vR2mW4pX8nB3cF6hJ1tL5yD0aGuE2e"  # strong enough (see Settings.security_problems)


# Marketing may go out at any hour in tests that are not about quiet hours (they run at any time).
SEND_ANY_TIME = {"campaigns": {"quiet_hours": None, "no_send_days": [], "no_send_dates": [], "holdout_percent": 0}}


def config_file(directory: Path, changes: dict) -> str:
    """A copy of config.yml with some sections changed, for tests that need other settings."""
    import yaml

    config = yaml.safe_load((REPO / "config.yml").read_text(encoding="utf-8"))
    # The Monday digest comes at a start later in the week too: an owner's photo in the middle of a
    # journey about something else (test_digest and tests that want it set the hour).
    config["reports"]["digest_hour"] = None
    for section, values in changes.items():
        config.setdefault(section, {}).update(values)
    path = Path(directory) / "config.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return str(path)


_DEFAULT_CONFIG = config_file(Path(tempfile.mkdtemp(prefix="stammgast-e2e-config-")), {})


def bot_environment(api: FakeBotApi, database_url: str, nlu_url: str | None, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONUNBUFFERED": "1",
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{api.port}",
        "DATABASE_URL": database_url,
        "STAMMGAST_CONFIG": _DEFAULT_CONFIG,
        "STAMMGAST_STAFF_CHAT_ID": str(STAFF_CHAT_ID),
        "STAMMGAST_ADMIN_IDS": str(ADMIN_ID),
        "STAMMGAST_RECEIPT_SECRET": RECEIPT_SECRET,
    }
    for passthrough in ("STAMMGAST_CACHE_DIR", "XDG_CACHE_HOME", "STAMMGAST_RASA_VENV"):
        if passthrough in os.environ:
            env[passthrough] = os.environ[passthrough]
    if nlu_url:
        env["NLU_URL"] = nlu_url
    env.update(extra)
    return env


class BotProcess:
    """One bot process; ``start`` returns once it polls the fake Bot API. Its output is kept
    (and written to ``log_path``) so tests can wait for a log line instead of sleeping."""

    def __init__(self, api: FakeBotApi, env: dict[str, str], log_path: Path):
        self.api = api
        self.env = env
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None
        self._lines: list[str] = []
        self._new_line = asyncio.Condition()
        self._reader: asyncio.Task | None = None

    async def start(self, timeout: float = 60) -> "BotProcess":
        """Start the bot; ready means it polls, or in webhook mode that it set its webhook."""
        polls_before, calls_before = self.api.polls_started, self.api.mark()
        entry_point = "tests.e2e.clock" if CLOCK_FILE_VARIABLE in self.env else "bot"
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", entry_point, "run", cwd=REPO, env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read_output())
        if "TELEGRAM_WEBHOOK_URL" in self.env:
            ready = self.api.wait_for_call("setWebhook", since=calls_before, timeout=timeout)
        else:
            ready = self.api.wait_until_polling(timeout, after=polls_before)
        polling = asyncio.ensure_future(ready)
        exited = asyncio.ensure_future(self.process.wait())
        done, _ = await asyncio.wait({polling, exited}, return_when=asyncio.FIRST_COMPLETED)
        if exited in done:
            polling.cancel()
            await self._reader
            raise RuntimeError(f"the bot exited with {self.process.returncode} during start:\n{self.log()[-3000:]}")
        exited.cancel()
        polling.result()
        return self

    async def _read_output(self) -> None:
        with open(self.log_path, "a", encoding="utf-8") as log:
            async for raw in self.process.stdout:
                line = raw.decode(errors="replace")
                log.write(line)
                log.flush()
                async with self._new_line:
                    self._lines.append(line.rstrip("\n"))
                    self._new_line.notify_all()

    async def wait_for_log(self, fragment: str, *more: str, timeout: float = 60) -> str:
        """Wait until the bot logs a line containing ``fragment`` (and every one of ``more``);
        return that line."""

        def found() -> str | None:
            return next((line for line in self._lines if all(part in line for part in (fragment, *more))), None)

        async def wait() -> str:
            async with self._new_line:
                await self._new_line.wait_for(found)
                return found()

        return await asyncio.wait_for(wait(), timeout)

    async def wait_for_logs(self, fragment: str, count: int, timeout: float = 60) -> list[str]:
        """Wait until the bot logged ``count`` lines containing ``fragment``."""

        def found() -> list[str] | None:
            lines = [line for line in self._lines if fragment in line]
            return lines if len(lines) >= count else None

        async def wait() -> list[str]:
            async with self._new_line:
                await self._new_line.wait_for(found)
                return found()

        return await asyncio.wait_for(wait(), timeout)

    async def stop(self) -> int:
        """Graceful stop (SIGTERM), as a service manager would do it."""
        if self.process and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 30)
        if self._reader:
            await self._reader
        return self.process.returncode if self.process else 0

    async def kill(self) -> None:
        """A crash: SIGKILL, no chance to clean up."""
        if self.process and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()
        if self._reader:
            await self._reader

    def log(self) -> str:
        return "\n".join(self._lines)
