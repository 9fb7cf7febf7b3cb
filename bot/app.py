"""The PTB Application: every handler in one table, and the start-up and shutdown of what
runs beside it (outbox dispatcher, NLU server or client)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from telegram import BotCommand, Update
from telegram.ext import (Application, ApplicationBuilder, CallbackQueryHandler, ChatMemberHandler,
                          CommandHandler, MessageHandler, filters)

from bot import keyboards
from bot.dispatcher import OutboxDispatcher
from bot.handlers import conversation, menu, onboarding, system
from bot.ordering import PerChatUpdateProcessor
from bot.services import Services
from bot.texts import Voice
from nlu.client import NluClient
from nlu.server import RasaServer, RasaServerError

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE


def handlers() -> list:
    """Who answers what, top to bottom; the first matching handler wins."""
    return [
        CommandHandler("start", onboarding.start, filters=PRIVATE),
        CommandHandler(["hilfe", "help"], menu.help_command, filters=PRIVATE),
        CommandHandler(["sprache", "language"], menu.language_command, filters=PRIVATE),
        CommandHandler("stop", menu.stop_command, filters=PRIVATE),
        MessageHandler(PRIVATE & filters.COMMAND, menu.unknown_command),
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & filters.TEXT, conversation.on_text),
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & ~filters.TEXT, conversation.on_other_content),
        CallbackQueryHandler(onboarding.consent_answer, pattern=r"^consent:(yes|no)$"),
        CallbackQueryHandler(menu.menu_button, pattern=r"^menu:(main|faq|marketing|language)$"),
        CallbackQueryHandler(menu.faq_button, pattern=r"^faq:[a-z][a-z0-9_]{0,39}$"),
        CallbackQueryHandler(menu.language_button, pattern=r"^lang:(de|en)$"),
        CallbackQueryHandler(menu.handoff_button, pattern=r"^handoff$"),
        CallbackQueryHandler(menu.marketing_button, pattern=r"^marketing:(on|off|keep)$"),
        CallbackQueryHandler(system.stale_button),  # anything else: outdated or forged
        ChatMemberHandler(system.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
    ]


def command_list(services: Services, language: str) -> list[BotCommand]:
    voice = Voice(language, services.config.formal and language == "de")
    names = {"de": ("start", "hilfe", "sprache", "stop"), "en": ("start", "help", "language", "stop")}[language]
    keys = ("commands.start", "commands.help", "commands.language", "commands.stop")
    return [BotCommand(name, services.texts.plain(key, voice)) for name, key in zip(names, keys)]


class Runtime:
    """What runs beside the PTB Application and must be started and stopped with it."""

    def __init__(self, services: Services, bundled_model: Path | None):
        self.services = services
        self.bundled_model = bundled_model
        self.rasa: RasaServer | None = None
        self.dispatcher: OutboxDispatcher | None = None
        self._nlu_start: asyncio.Task | None = None

    async def start(self, application: Application) -> None:
        s = self.services
        await application.bot.set_my_commands(command_list(s, s.config.shop.language))
        for language in ("de", "en"):
            await application.bot.set_my_commands(command_list(s, language), language_code=language)
        self.dispatcher = OutboxDispatcher(s, application.bot)
        self.dispatcher.start()
        if s.settings.nlu_url:
            s.nlu = NluClient(s.settings.nlu_url, timeout=s.config.nlu.timeout_seconds)
        elif self.bundled_model is not None:
            # Rasa needs ~20 s to load; the bot answers meanwhile (free text gets the fallback).
            self._nlu_start = asyncio.create_task(self._start_bundled_nlu(), name="nlu-start")
        log.info("bot started", extra={"bot": application.bot.username})

    async def _start_bundled_nlu(self) -> None:
        self.rasa = RasaServer(self.bundled_model)
        try:
            await self.rasa.start()
        except RasaServerError:
            log.exception("bundled NLU server failed to start; free text gets the fallback answer")
            return
        self.services.nlu = NluClient(self.rasa.url, timeout=self.services.config.nlu.timeout_seconds)

    async def stop(self, application: Application) -> None:
        if self._nlu_start:
            self._nlu_start.cancel()
            await asyncio.gather(self._nlu_start, return_exceptions=True)
        if self.dispatcher:
            await self.dispatcher.stop()
        if self.services.nlu:
            await self.services.nlu.aclose()
        if self.rasa:
            await self.rasa.stop()
        self.services.store.dispose()


def build_application(services: Services, bundled_model: Path | None) -> Application:
    runtime = Runtime(services, bundled_model)
    settings = services.settings
    application = (
        ApplicationBuilder()
        .token(settings.token())
        .base_url(settings.bot_api_url)
        .base_file_url(settings.bot_file_url)
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(runtime.start)
        .post_shutdown(runtime.stop)
        .build()
    )
    application.bot_data["services"] = services
    application.add_handlers(handlers())
    application.add_error_handler(system.on_error)
    return application


def run(application: Application, services: Services) -> None:
    settings = services.settings
    if settings.webhook_url:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        application.run_webhook(
            listen=settings.webhook_listen, port=settings.webhook_port,
            url_path=_webhook_path(settings.webhook_url), webhook_url=settings.webhook_url,
            secret_token=secret, allowed_updates=Update.ALL_TYPES,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)


def _webhook_path(url: str) -> str:
    from urllib.parse import urlparse

    return urlparse(url).path.lstrip("/")
