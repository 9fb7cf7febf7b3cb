"""``python -m bot doctor``: check everything the bot needs and say, one line per problem,
what is wrong and how to fix it. Exit code 0 when the bot can start, 1 otherwise."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.settings import Settings
from bot.texts import Texts, TextsError
from domain import setup_checklist
from domain.config import ConfigError, ShopConfig


@dataclass(frozen=True)
class Finding:
    level: str  # ok | warn | fail
    subject: str
    message: str

    def line(self) -> str:
        mark = {"ok": "✔", "warn": "!", "fail": "✘"}[self.level]
        return f"{mark} {self.subject}: {self.message}"


def check_config(settings: Settings) -> tuple[list[Finding], ShopConfig | None]:
    from bot.settings import load_shop_config

    try:
        config = load_shop_config(settings)
        Texts(config.shop.name, config.texts.override_dir, config.shop.timezone)
    except (ConfigError, TextsError) as error:
        first, *rest = str(error).splitlines()
        return [Finding("fail", "config", first + (f" (+{len(rest)} more)" if rest else ""))], None
    findings = [Finding("ok", "config", f"{settings.config_path}: {config.shop.name}, "
                                        f"{config.shop.address_form}, {config.shop.timezone}")]
    missing = config.privacy.missing_notice_keys()
    if missing:
        keys = ", ".join(f"privacy.{key}" for key in missing)
        findings.append(Finding("fail" if settings.production else "warn", "privacy notice",
                                f"{keys} not set: " + ("the bot will not start with the official Telegram API"
                                                       if settings.production else
                                                       "fine for tests, but a start with the official Telegram "
                                                       "API refuses to run") +
                                ". Fix: fill in the privacy section of config.yml (see README)"))
    else:
        findings.append(Finding("ok", "privacy notice", f"{config.privacy.controller.split(',')[0]}, "
                                f"{config.privacy.contact}, {config.privacy.policy_url}"))
    if config.staff.staff_chat_id is None:
        findings.append(Finding("warn", "staff chat", "not set: requests for a person show the shop's contact "
                                "details instead. Fix: set staff.staff_chat_id in config.yml or STAMMGAST_STAFF_CHAT_ID"))
    if not config.staff.admin_ids:
        findings.append(Finding("warn", "admins", "no admin ids: nobody can use owner commands. "
                                "Fix: set staff.admin_ids in config.yml or STAMMGAST_ADMIN_IDS"))
    return findings, config


def check_faq() -> list[Finding]:
    from nlu.faq import FaqError, load_catalog

    try:
        catalog = load_catalog()
    except FaqError as error:
        return [Finding("fail", "faq", f"{error}. Fix the file and run the doctor again")]
    if setup_checklist.faq_is_sample(catalog.answers()):
        return [Finding("warn", "faq", f"{len(catalog.topics)} topics, but still the bundled sample (a café in "
                        "Freiburg): customers would get its address and phone number. Fix: write your shop's "
                        "answers into nlu/faq.yml")]
    return [Finding("ok", "faq", f"{len(catalog.topics)} topics")]


def check_database(settings: Settings) -> list[Finding]:
    from storage.db import Store, schema_is_current

    store = Store(settings.database_url)
    try:
        current = schema_is_current(store.engine)
    except SQLAlchemyError as error:
        reason = str(error).splitlines()[0][:200]
        return [Finding("fail", "database", f"cannot connect ({reason}). Fix: check DATABASE_URL "
                        "and that the database server is running")]
    finally:
        store.dispose()
    where = store.engine.url.render_as_string(hide_password=True)
    if not current:
        return [Finding("ok", "database", f"{where} reachable; the schema will be migrated at start")]
    return [Finding("ok", "database", f"{where}, schema up to date")]


async def check_nlu(settings: Settings) -> list[Finding]:
    if settings.nlu_url:
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                response = await http.post(f"{settings.nlu_url.rstrip('/')}/model/parse", json={"text": "hallo"})
                response.raise_for_status()
                intent = response.json()["intent"]["name"]
        except (httpx.HTTPError, ValueError, KeyError) as error:
            return [Finding("fail", "nlu", f"NLU_URL={settings.nlu_url} does not answer ({type(error).__name__}). "
                            "Fix: start it with `python -m nlu serve` or unset NLU_URL to use the bundled server")]
        return [Finding("ok", "nlu", f"{settings.nlu_url} answers ('hallo' → {intent})")]
    from nlu import rasa_env

    if not rasa_env.is_ready(settings):
        return [Finding("fail", "nlu", "the Rasa environment is not installed. Fix: ./stammgast setup "
                        "(or python -m nlu setup)")]
    return [Finding("ok", "nlu", "bundled Rasa server; it starts with the bot (training first if the data changed)")]


async def check_token(settings: Settings) -> list[Finding]:
    token = settings.token()
    if not token:
        return [Finding("fail", "token", "TELEGRAM_BOT_TOKEN is not set. Fix: create a bot with @BotFather "
                        "and export TELEGRAM_BOT_TOKEN=123456:ABC...")]
    try:
        bot = Bot(token, base_url=settings.bot_api_url, base_file_url=settings.bot_file_url)
        async with bot:
            me = bot.bot
    except InvalidToken:
        return [Finding("fail", "token", "Telegram rejects TELEGRAM_BOT_TOKEN. Fix: copy the token again from "
                        "@BotFather (/mybots → API Token)")]
    except NetworkError as error:
        return [Finding("fail", "token", f"cannot reach the Bot API at {settings.telegram_api_base_url} "
                        f"({error}). Fix: check the network or TELEGRAM_API_BASE_URL")]
    except TelegramError as error:
        return [Finding("fail", "token", f"the Bot API answered with an error: {error}")]
    return [Finding("ok", "token", f"valid, bot @{me.username}")]


def check_secrets(settings: Settings) -> list[Finding]:
    """The webhook's secret (webhook mode only) and the receipt secret: set and strong enough."""
    problems = settings.security_problems()
    findings = [Finding("fail", "secrets", problem) for problem in problems]
    if not problems and settings.webhook_url:
        findings.append(Finding("ok", "webhook", "TELEGRAM_WEBHOOK_SECRET set; updates without it are refused (403)"))
    if not problems and settings.receipt_key():
        findings.append(Finding("ok", "receipts", "STAMMGAST_RECEIPT_SECRET set and strong enough"))
    return findings


async def diagnose(settings: Settings, out=print) -> int:
    findings, _ = check_config(settings)
    findings += check_secrets(settings)
    findings += check_faq()
    findings += check_database(settings)
    findings += await check_nlu(settings)
    findings += await check_token(settings)
    for finding in findings:
        out(finding.line())
    failures = sum(f.level == "fail" for f in findings)
    out("All checks passed." if not failures else f"{failures} problem(s) to fix before the bot can run.")
    return 1 if failures else 0
