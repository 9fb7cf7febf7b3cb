"""Fixtures for end-to-end tests: the fake Bot API, a staff group, and the real bot process
on a fresh SQLite database, talking to the session's real Rasa server."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from domain.config import LoyaltySection
from storage.db import Store
from tests.kept_figures import assert_kept_figures_agree
from tests.e2e.harness import STAFF_CHAT_ID, BotProcess, bot_environment
from tests.fakebotapi import FakeBotApi


@pytest.fixture
async def api():
    async with FakeBotApi(bot_username="morgenrot_bot") as fake:
        yield fake


@pytest.fixture
def staff(api):
    return api.new_group(title="Team Morgenrot", chat_id=STAFF_CHAT_ID)


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'stammgast.db'}"


@pytest.fixture
def db(database_url):
    """Direct access to the bot's database, for checking what the bot stored."""
    store = Store(database_url)
    yield store
    store.dispose()


@pytest.fixture
async def bots(api, database_url, rasa_url, tmp_path):
    """Start bot processes (a restart is a second one on the same database); all stop at the end."""
    started: list[BotProcess] = []

    async def start(nlu_url: str | None = rasa_url, **extra_env: str) -> BotProcess:
        env = bot_environment(api, database_url, nlu_url, **extra_env)
        process = BotProcess(api, env, tmp_path / f"bot-{len(started)}.log")
        started.append(process)
        return await process.start()

    yield start
    for process in started:
        await process.stop()
    if started:  # whatever the journey did, the figures kept for segments still agree
        store = Store(database_url)
        try:  # (the tier points for any window and moment: the default rules, now)
            assert_kept_figures_agree(store, LoyaltySection(), datetime.now(timezone.utc))
        finally:
            store.dispose()


@pytest.fixture
async def bot(bots, staff):
    return await bots()
