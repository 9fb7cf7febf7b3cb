"""Deployment settings from the environment (secrets and addresses); the shop's own settings
come from config.yml (see domain.config). Names are a contract documented in the README.

``Settings`` holds every variable the bot reads: its own, and by extending their classes the
database's (storage.settings: DATABASE_URL) and the Rasa environment's and model cache's
(nlu.settings: STAMMGAST_RASA_VENV, RASA_PYTHON, PYENV_ROOT, STAMMGAST_CACHE_DIR, XDG_CACHE_HOME),
which ``python -m storage`` and ``python -m nlu`` read on their own."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from domain.config import ConfigError, ShopConfig, load_config, notice_problems
from nlu.settings import NluSettings
from storage.settings import StorageSettings

OFFICIAL_API = "https://api.telegram.org"
MIN_SECRET_LENGTH = 32
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as secret_token
_PLACEHOLDERS = ("secret", "changeme", "change-me", "password", "passwort", "geheim", "example", "test", "1234",
                 "abcd", "qwert", "xxxx")
MAKE_ONE = "make one with: openssl rand -hex 32"


def opt_in_ptb_timedelta() -> None:
    """PTB 22 reports durations (RetryAfter.retry_after among them) as int seconds with a
    deprecation warning, or as timedelta once PTB_TIMEDELTA is set in the environment (PTB
    reads it whenever it returns a duration). The dispatcher reads both; opting in keeps the
    warning out of the operator's log. Called by the command line and the tests, never at import."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")


class Settings(StorageSettings, NluSettings):
    """Every environment variable the bot reads (the model configuration comes with the bases)."""

    telegram_bot_token: SecretStr | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str = Field(OFFICIAL_API, alias="TELEGRAM_API_BASE_URL")
    nlu_url: str | None = Field(None, alias="NLU_URL")
    config_path: Path = Field(Path("config.yml"), alias="STAMMGAST_CONFIG")
    admin_ids: str | None = Field(None, alias="STAMMGAST_ADMIN_IDS")
    staff_chat_id: int | None = Field(None, alias="STAMMGAST_STAFF_CHAT_ID")
    webhook_url: str | None = Field(None, alias="TELEGRAM_WEBHOOK_URL")
    webhook_listen: str = Field("127.0.0.1", alias="TELEGRAM_WEBHOOK_LISTEN")
    webhook_port: int = Field(8443, alias="TELEGRAM_WEBHOOK_PORT")
    webhook_secret: SecretStr | None = Field(None, alias="TELEGRAM_WEBHOOK_SECRET")
    # Only for `python -m bot receipt` (the deep link names the bot); asked from Telegram if unset.
    bot_username: str | None = Field(None, alias="TELEGRAM_BOT_USERNAME")
    # Everything the bot sends with a chat id, in all (Telegram allows about 30 per second);
    # replicas sharing one token divide it among them. See bot.dispatcher.TelegramRateLimiter.
    max_messages_per_second: float = Field(30.0, alias="TELEGRAM_MAX_MESSAGES_PER_SECOND", gt=0)
    # Signs receipt QR codes; the till script and the bot must share it. Unset: no receipts.
    receipt_secret: SecretStr | None = Field(None, alias="STAMMGAST_RECEIPT_SECRET")
    # DEBUG adds a line per customer message with the time the bot took (bench/ reads it).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", alias="STAMMGAST_LOG_LEVEL")

    @field_validator("telegram_api_base_url")
    @classmethod
    def _server_root(cls, url: str) -> str:
        # Accept both the server root and PTB's style with "/bot" appended.
        return url.rstrip("/").removesuffix("/bot")

    @field_validator("nlu_url", "admin_ids", "webhook_url", "receipt_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value):
        return value or None

    @field_validator("staff_chat_id", mode="before")
    @classmethod
    def _empty_chat_is_unset(cls, value):
        return value if value not in ("", None) else None

    @property
    def bot_api_url(self) -> str:
        return f"{self.telegram_api_base_url}/bot"

    @property
    def bot_file_url(self) -> str:
        return f"{self.telegram_api_base_url}/file/bot"

    @property
    def production(self) -> bool:
        """Talking to real customers through the official Bot API (tests use a local fake). A
        production start needs the complete privacy notice (``privacy_problems``)."""
        return self.telegram_api_base_url == OFFICIAL_API

    def parsed_admin_ids(self) -> tuple[int, ...] | None:
        if not self.admin_ids:
            return None
        try:
            return tuple(int(part) for part in self.admin_ids.replace(" ", "").split(",") if part)
        except ValueError:
            raise ValueError("STAMMGAST_ADMIN_IDS must be comma-separated Telegram user ids, "
                             "e.g. STAMMGAST_ADMIN_IDS=123456789,987654321") from None

    def security_problems(self) -> list[str]:
        """What keeps the bot from starting safely: a webhook without its secret, weak secrets.
        ``python -m bot run`` refuses to start with any of them; ``doctor`` reports them."""
        problems = []
        if self.webhook_url:
            secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
            if not secret:
                problems.append("TELEGRAM_WEBHOOK_SECRET is not set, but webhook mode (TELEGRAM_WEBHOOK_URL) needs it: "
                                "without it anyone who finds the URL can post forged updates. Set it; " + MAKE_ONE)
            elif not _WEBHOOK_SECRET.fullmatch(secret):
                problems.append("TELEGRAM_WEBHOOK_SECRET may only contain A-Z, a-z, 0-9, _ and - (at most 256 "
                                "characters); " + MAKE_ONE)
            elif weakness := weak_secret(secret):
                problems.append(f"TELEGRAM_WEBHOOK_SECRET is too weak ({weakness}); " + MAKE_ONE)
        if self.receipt_key() and (weakness := weak_secret(self.receipt_key())):
            problems.append(f"STAMMGAST_RECEIPT_SECRET is too weak ({weakness}): whoever guesses it can print "
                            "receipts for any amount. Set a long random one (bot and till script share it); " + MAKE_ONE)
        return problems

    def receipt_key(self) -> str | None:
        return self.receipt_secret.get_secret_value() if self.receipt_secret else None

    def token(self) -> str | None:
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None


def privacy_problems(settings: Settings, config: ShopConfig) -> list[str]:
    """What a production start misses in config.yml's privacy section (empty otherwise)."""
    return notice_problems(settings.config_path, config) if settings.production else []


def weak_secret(secret: str) -> str | None:
    """Why ``secret`` is too easy to guess, or None: shorter than ``MIN_SECRET_LENGTH``
    characters, few different characters, or a well-known placeholder word in it."""
    if len(secret) < MIN_SECRET_LENGTH:
        return f"{len(secret)} characters, at least {MIN_SECRET_LENGTH} are needed"
    if len(set(secret)) < 8:
        return "too few different characters"
    lowered = secret.lower()
    if any(word in lowered for word in _PLACEHOLDERS):
        return "it contains a placeholder word"
    return None


def load_shop_config(settings: Settings) -> ShopConfig:
    """config.yml with the deployment's overrides (STAMMGAST_ADMIN_IDS, STAMMGAST_STAFF_CHAT_ID);
    raises ConfigError with a message for the owner."""
    config = load_config(settings.config_path)
    try:
        admin_ids = settings.parsed_admin_ids()
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return config.with_overrides(admin_ids, settings.staff_chat_id)
