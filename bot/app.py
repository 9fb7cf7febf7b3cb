"""The PTB Application: every handler in one table, and the start-up and shutdown of what
runs beside it (outbox dispatcher, ticket timers, NLU server or client)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import (Application, ApplicationBuilder, CallbackQueryHandler, ChatMemberHandler,
                          CommandHandler, MessageHandler, filters)

from bot.dispatcher import OutboxDispatcher, TelegramRateLimiter, stop_sending
from bot.timers import Timers
from bot.handlers import (campaigns, conversation, counter, feedback, imports, linking, loyalty, menu, onboarding,
                          reports, surveys, system, tickets)
from bot.ordering import PerChatUpdateProcessor
from bot.services import Services
from bot.texts import LANGUAGES, Voice
from nlu.client import NluClient
from nlu.server import RasaServer, RasaServerError

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE


def handlers(staff_chat_id: int | None = None) -> list:
    """Who answers what, top to bottom; the first matching handler wins."""
    # Counter commands work privately and in the staff group; bot.staff checks who may use them.
    counter_chats = PRIVATE | filters.Chat(staff_chat_id) if staff_chat_id is not None else PRIVATE
    # In the staff chat, replies to a ticket's messages go to the customer.
    staff_chat_handlers = [MessageHandler(filters.Chat(staff_chat_id) & filters.UpdateType.MESSAGE & filters.TEXT
                                          & ~filters.COMMAND, tickets.on_staff_message)] if staff_chat_id else []
    return [
        CommandHandler("start", onboarding.start, filters=PRIVATE),
        CommandHandler(["hilfe", "help"], menu.help_command, filters=PRIVATE),
        CommandHandler(["sprache", "language"], menu.language_command, filters=PRIVATE),
        CommandHandler("stop", menu.stop_command, filters=PRIVATE),
        CommandHandler(["karte", "card"], loyalty.card_command, filters=PRIVATE),
        CommandHandler(["punkte", "points"], loyalty.points_command, filters=PRIVATE),
        CommandHandler(["praemien", "rewards"], loyalty.rewards_command, filters=PRIVATE),
        CommandHandler(["empfehlen", "invite"], loyalty.referral_command, filters=PRIVATE),
        CommandHandler(["geburtstag", "birthday"], loyalty.birthday_command, filters=PRIVATE),
        CommandHandler(["verbinden", "link"], linking.link_command, filters=PRIVATE),
        CommandHandler("feedback", feedback.feedback_command, filters=PRIVATE),
        CommandHandler(["beschwerde", "complaint"], tickets.complaint_command, filters=PRIVATE),
        CommandHandler("kauf", counter.purchase_command, filters=counter_chats),
        CommandHandler("storno", counter.reversal_command, filters=counter_chats),
        CommandHandler("beleg", counter.receipt_command, filters=counter_chats),
        CommandHandler("kunde", counter.customer_command, filters=counter_chats),
        CommandHandler("einloesen", counter.redeem_code_command, filters=counter_chats),
        CommandHandler("tickets", tickets.tickets_command, filters=counter_chats),
        CommandHandler("ticket", tickets.ticket_command, filters=counter_chats),
        CommandHandler("nps", reports.nps_command, filters=counter_chats),
        CommandHandler("loop", reports.loop_command, filters=counter_chats),
        CommandHandler("broadcast", campaigns.broadcast_command, filters=counter_chats),
        CommandHandler("planen", campaigns.plan_command, filters=counter_chats),
        CommandHandler("kampagnen", campaigns.list_command, filters=counter_chats),
        CommandHandler("segment", campaigns.segment_command, filters=counter_chats),
        CommandHandler("abbrechen", campaigns.cancel_command, filters=counter_chats),
        MessageHandler(PRIVATE & filters.COMMAND, menu.unknown_command),
        *staff_chat_handlers,
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & filters.TEXT, conversation.on_text),
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & filters.CONTACT, linking.on_contact),
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & filters.Document.ALL, imports.on_document),
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & ~filters.TEXT, conversation.on_other_content),
        CallbackQueryHandler(onboarding.consent_answer, pattern=r"^consent:(yes|no)$"),
        CallbackQueryHandler(loyalty.loyalty_button, pattern=r"^loyalty:(points|rewards|card)$"),
        CallbackQueryHandler(loyalty.reward_button, pattern=r"^reward:[a-z][a-z0-9_]{0,30}$"),
        CallbackQueryHandler(loyalty.redeem_button, pattern=r"^redeem:([0-9a-f]{12}|cancel)$"),
        CallbackQueryHandler(loyalty.birthday_button, pattern=r"^bday:(yes|no):[0-9a-f]{12}$"),
        CallbackQueryHandler(imports.confirm_button, pattern=r"^import:(yes|no)$"),
        CallbackQueryHandler(reports.loop_button, pattern=reports.LOOP_PATTERN),
        CallbackQueryHandler(campaigns.confirm_button, pattern=campaigns.BUTTON_PATTERN),
        CallbackQueryHandler(tickets.staff_button, pattern=tickets.STAFF_PATTERN),
        CallbackQueryHandler(tickets.goodwill_button, pattern=tickets.GOODWILL_PATTERN),
        CallbackQueryHandler(tickets.follow_up_button, pattern=tickets.FOLLOW_UP_PATTERN),
        CallbackQueryHandler(surveys.score_button, pattern=surveys.SCORE_PATTERN),
        CallbackQueryHandler(surveys.skip_button, pattern=surveys.SKIP_PATTERN),
        CallbackQueryHandler(surveys.call_button, pattern=surveys.CALL_PATTERN),
        CallbackQueryHandler(menu.menu_button, pattern=r"^menu:(main|faq|marketing|language)$"),
        CallbackQueryHandler(menu.faq_button, pattern=r"^faq:[a-z][a-z0-9_]{0,39}$"),
        CallbackQueryHandler(menu.language_button, pattern=r"^lang:(de|en)$"),
        CallbackQueryHandler(menu.handoff_button, pattern=r"^handoff$"),
        CallbackQueryHandler(menu.marketing_button, pattern=r"^marketing:(on|off|keep)$"),
        CallbackQueryHandler(system.stale_button),  # anything else: outdated or forged
        ChatMemberHandler(system.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
    ]


COMMANDS = {  # text key: (German name, English name)
    "commands.start": ("start", "start"),
    "commands.points": ("punkte", "points"),
    "commands.card": ("karte", "card"),
    "commands.rewards": ("praemien", "rewards"),
    "commands.invite": ("empfehlen", "invite"),
    "commands.birthday": ("geburtstag", "birthday"),
    "commands.feedback": ("feedback", "feedback"),
    "commands.complaint": ("beschwerde", "complaint"),
    "commands.help": ("hilfe", "help"),
    "commands.language": ("sprache", "language"),
    "commands.stop": ("stop", "stop"),
}
STAFF_COMMANDS = ("kauf", "storno", "beleg", "kunde", "einloesen", "tickets", "ticket")


def command_list(services: Services, language: str) -> list[BotCommand]:
    voice = Voice(language, services.config.formal and language == "de")
    index = 0 if language == "de" else 1
    return [BotCommand(names[index], services.texts.plain(key, voice)) for key, names in COMMANDS.items()]


OWNER_COMMANDS = {"nps": "reports.command_nps", "loop": "reports.command_loop",
                  "broadcast": "campaigns.command_broadcast", "planen": "campaigns.command_plan",
                  "kampagnen": "campaigns.command_list", "abbrechen": "campaigns.command_cancel",
                  "segment": "campaigns.command_segment"}


def staff_command_list(services: Services) -> list[BotCommand]:
    return [BotCommand(name, services.texts.plain(f"commands.{name}", services.staff_voice)) for name in STAFF_COMMANDS]


def owner_command_list(services: Services) -> list[BotCommand]:
    """In an owner's private chat: the customer commands, the counter's and the reports."""
    owner = [BotCommand(name, services.texts.plain(key, services.staff_voice)[:256]) for name, key in OWNER_COMMANDS.items()]
    return command_list(services, services.config.shop.language) + staff_command_list(services) + owner


class Runtime:
    """What runs beside the PTB Application and must be started and stopped with it."""

    def __init__(self, services: Services, bundled_model: Path | None):
        self.services = services
        self.bundled_model = bundled_model
        self.rasa: RasaServer | None = None
        self.dispatcher: OutboxDispatcher | None = None
        self.timers: Timers | None = None
        self._nlu_start: asyncio.Task | None = None

    async def start(self, application: Application) -> None:
        s = self.services
        await application.bot.set_my_commands(command_list(s, s.config.shop.language))
        for language in LANGUAGES:
            await application.bot.set_my_commands(command_list(s, language), language_code=language)
        if s.config.staff.staff_chat_id is not None:
            await self._offer_commands(application, s.config.staff.staff_chat_id, staff_command_list(s))
        for admin_id in s.config.staff.admin_ids:
            await self._offer_commands(application, admin_id, owner_command_list(s))
        self.dispatcher = OutboxDispatcher(s, application.bot)
        self.dispatcher.start()
        self.timers = Timers(s)
        self.timers.start()
        if s.settings.nlu_url:
            s.nlu = NluClient(s.settings.nlu_url, timeout=s.config.nlu.timeout_seconds)
        elif self.bundled_model is not None:
            # Rasa needs ~20 s to load; the bot answers meanwhile (free text gets the fallback).
            self._nlu_start = asyncio.create_task(self._start_bundled_nlu(), name="nlu-start")
        log.info("bot started", extra={"bot": application.bot.username})

    async def _offer_commands(self, application: Application, chat_id: int, commands: list[BotCommand]) -> None:
        try:
            await application.bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
        except TelegramError as error:  # e.g. not in the group yet, or an owner who never wrote: not fatal
            log.warning("could not set a chat's commands", extra={"chat_id": chat_id, "error": str(error)})

    async def _start_bundled_nlu(self) -> None:
        self.rasa = RasaServer(self.bundled_model, self.services.settings)
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
        if self.timers:
            self.timers.stop()
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
        # Telegram's flood limits for everything the bot sends (replies, staff group, outbox).
        .rate_limiter(TelegramRateLimiter(settings.max_messages_per_second))
        .post_init(runtime.start)
        .post_stop(stop_sending)  # the outbox stops while the bot can still send
        .post_shutdown(runtime.stop)
        .build()
    )
    application.bot_data["services"] = services
    application.add_handlers(handlers(services.config.staff.staff_chat_id))
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
