"""`doctor` lists the owners and the staff group with where each came from (environment,
config.yml, set in the chat), and without an owner the one-time owner code and its use."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.doctor import check_team
from bot.settings import Settings
from domain import owners, team
from domain.config import load_config
from storage.db import Store

CONFIG = Path(__file__).resolve().parents[2] / "config.yml"
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def database(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'stammgast.db'}"
    store = Store(url)
    store.migrate()
    store.dispose()
    return url


def lines(database: str, config_changes: dict | None = None, **environment: str) -> list[str]:
    settings = Settings(**{"TELEGRAM_BOT_TOKEN": "1:x", "DATABASE_URL": database, "STAMMGAST_ADMIN_IDS": "",
                           "STAMMGAST_STAFF_CHAT_ID": "", **environment})
    config = load_config(CONFIG)
    if config_changes:
        config = config.model_copy(update={"staff": config.staff.model_copy(update=config_changes)})
    config = config.with_overrides(settings.parsed_admin_ids(), settings.staff_chat_id)
    return [finding.line() for finding in check_team(settings, config)]


def write(database: str, use_case, *args) -> None:
    store = Store(database)
    with store.session() as session:
        use_case(session, *args)
    store.dispose()


def test_without_an_owner_the_code_and_its_use_are_shown(database):
    write(database, owners.pending_code, NOW)
    store = Store(database)
    with store.reading() as session:
        code = owners.shown(owners.current_code(session))
    store.dispose()
    owner_line, staff_line = lines(database)
    assert owner_line.startswith("! owners: no owner yet") and code in owner_line and "private chat" in owner_line
    assert staff_line.startswith("! staff group: not set") and "button" in staff_line


def test_before_the_first_start_doctor_says_where_the_code_will_appear(database):
    owner_line, _ = lines(database)
    assert "start the bot" in owner_line and "console" in owner_line


def test_each_owner_and_the_staff_group_name_where_they_came_from(database):
    write(database, owners.pending_code, NOW)
    write(database, owners.claim, owners.normalize(_code(database)), 42, (), NOW)
    write(database, team.choose_staff_chat, -100555, NOW)
    assert lines(database, {"admin_ids": (7,), "staff_chat_id": -100111}) == [
        "✔ owners: 7 (config.yml), 42 (set in the chat)", "✔ staff group: -100555 (set in the chat)"]
    assert lines(database, {"admin_ids": (7,)}, STAMMGAST_ADMIN_IDS="9", STAMMGAST_STAFF_CHAT_ID="-100999") == [
        "✔ owners: 9 (STAMMGAST_ADMIN_IDS)", "✔ staff group: -100999 (STAMMGAST_STAFF_CHAT_ID)"]


def test_a_database_without_the_schema_lists_what_the_files_say(tmp_path):
    assert lines(f"sqlite:///{tmp_path / 'new.db'}", {"staff_chat_id": -100111}) == [
        "! owners: no owner yet: nobody can use owner commands. Fix: start the bot: it prints a one-time owner code "
        "on its console; send it to the bot in a private chat to become the owner (or set STAMMGAST_ADMIN_IDS or "
        "staff.admin_ids in config.yml)", "✔ staff group: -100111 (config.yml)"]


def _code(database: str) -> str:
    store = Store(database)
    with store.reading() as session:
        code = owners.current_code(session)
    store.dispose()
    return code
