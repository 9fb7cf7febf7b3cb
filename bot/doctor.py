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
    return findings, config


def check_team(settings: Settings, config: ShopConfig) -> list[Finding]:
    """The owners and the staff group, each with where it came from (environment, config.yml or
    set in the chat); without an owner, the one-time owner code and how to use it."""
    from domain import owners, team
    from storage.db import Store

    from_environment = settings.staff_chat_id is not None
    store = Store(settings.database_url)
    try:
        with store.reading() as session:
            found = owners.owners(session, settings.parsed_admin_ids(), config.staff.admin_ids)
            code = owners.current_code(session)
            staff_chat = team.current_staff_chat(session, config.staff.staff_chat_id, from_environment)
            chosen = team.chosen_in_chat(session)
    except SQLAlchemyError:  # no database or no schema yet: only what the environment and config.yml say
        found = owners.effective_owners(settings.parsed_admin_ids(), config.staff.admin_ids, ())
        code, staff_chat, chosen = None, config.staff.staff_chat_id, None
    finally:
        store.dispose()
    return [_owners_finding(found, code), _staff_chat_finding(staff_chat, config.staff.staff_chat_id,
                                                              from_environment, chosen)]


_SOURCES = {"environment": "STAMMGAST_ADMIN_IDS", "config.yml": "config.yml", "chat": "set in the chat"}


def _owners_finding(found, code: str | None) -> Finding:
    from domain import owners

    if found:
        return Finding("ok", "owners", ", ".join(f"{owner.telegram_user_id} ({_SOURCES[owner.source]})"
                                                 for owner in found))
    how = (f"send the owner code {owners.shown(code)} to the bot in a private chat to become the owner"
           if code else "start the bot: it prints a one-time owner code on its console; send it to the bot in a "
                        "private chat to become the owner")
    return Finding("warn", "owners", f"no owner yet: nobody can use owner commands. Fix: {how} "
                                     "(or set STAMMGAST_ADMIN_IDS or staff.admin_ids in config.yml)")


def _staff_chat_finding(staff_chat: int | None, configured: int | None, from_environment: bool,
                        chosen: int | None) -> Finding:
    if staff_chat is None:
        return Finding("warn", "staff group", "not set: tickets (complaints, requests for a person) go to the "
                       "owners' private chats. Fix: add the bot to the team's group; the owners get a button that makes it the "
                       "staff group (or set STAMMGAST_STAFF_CHAT_ID or staff.staff_chat_id in config.yml)")
    if staff_chat == chosen and not from_environment:
        source = "set in the chat"
    else:
        source = "STAMMGAST_STAFF_CHAT_ID" if from_environment else "config.yml"
        if staff_chat != configured:
            source += f" {configured}, followed when it became a supergroup"
    return Finding("ok", "staff group", f"{staff_chat} ({source})")


def check_opening_hours(config) -> list[Finding]:
    """Whether the shop wrote its opening hours: without them customers read the FAQ's text,
    which may say other hours than the ones tickets count."""
    if config.opening_hours_configured:
        return [Finding("ok", "opening hours", "shop.opening_hours in config.yml (tickets and the FAQ answer)")]
    source = "complaints.business_hours" if "business_hours" in config.complaints.model_fields_set else "the defaults"
    return [Finding("warn", "opening hours", f"shop.opening_hours is not set: tickets count {source}, while customers "
                    "who ask for the opening hours read the text of nlu/faq.yml. Fix: write the hours as "
                    "shop.opening_hours in config.yml (e.g. mo-fr: \"08:00-18:00\"); the FAQ answer then follows them")]


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
    findings, config = check_config(settings)
    if config is not None:
        findings += check_team(settings, config)
        findings += check_opening_hours(config)
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
