"""The environment variables: one typed Settings for the bot, composed of the definitions that
``python -m storage`` and ``python -m nlu`` read on their own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.settings import Settings
from nlu.settings import NluSettings
from storage.settings import StorageSettings

REPO = Path(__file__).resolve().parents[2]
CONTRACT = {"TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "DATABASE_URL", "NLU_URL", "STAMMGAST_CONFIG",
            "STAMMGAST_ADMIN_IDS", "STAMMGAST_STAFF_CHAT_ID", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_LISTEN",
            "TELEGRAM_WEBHOOK_PORT", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_MAX_MESSAGES_PER_SECOND",
            "STAMMGAST_RECEIPT_SECRET", "STAMMGAST_LOG_LEVEL", "TELEGRAM_BOT_USERNAME", "RASA_PYTHON", "PYENV_ROOT",
            "STAMMGAST_RASA_VENV", "STAMMGAST_CACHE_DIR", "XDG_CACHE_HOME"}


def variables(settings_class) -> set[str]:
    return {field.alias for field in settings_class.model_fields.values()}


def test_the_bot_settings_hold_every_variable_and_nothing_for_tests():
    assert variables(Settings) == CONTRACT
    assert variables(StorageSettings) | variables(NluSettings) < variables(Settings)


def test_the_model_cache_follows_xdg_unless_set(monkeypatch, tmp_path):
    monkeypatch.delenv("STAMMGAST_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert NluSettings().cache_dir == tmp_path / "stammgast"
    monkeypatch.setenv("STAMMGAST_CACHE_DIR", str(tmp_path / "models"))
    assert Settings().cache_dir == tmp_path / "models"


def test_empty_values_mean_unset(monkeypatch):
    monkeypatch.setenv("RASA_PYTHON", "")
    monkeypatch.setenv("DATABASE_URL", "")
    settings = Settings()
    assert settings.rasa_python is None
    assert settings.database_url == StorageSettings(DATABASE_URL=None).database_url == "sqlite:///data/stammgast.db"


def test_importing_the_bot_changes_no_environment():
    probe = "import os, bot, bot.app, bot.__main__; print(os.environ.get('PTB_TIMEDELTA'))"
    env = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "None", result.stderr
