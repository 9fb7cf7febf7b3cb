"""The PTB Application: every handler in one table, and the start-up and shutdown of what
runs beside it (outbox dispatcher, ticket timers, NLU server or client)."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import (Application, ApplicationBuilder, CallbackQueryHandler, ChatMemberHandler,
                          CommandHandler, MessageHandler, filters)

from bot.dispatcher import OutboxDispatcher, stop_sending
from bot.rate_limiter import TelegramRateLimiter
from bot.timers import Timers
from bot import staff
from bot.access import Who, guarded
from bot.handlers import (campaigns, clarify, closures, codes, conversation, counter, customer_settings, exports,
                          feedback, imports, key_figures, linking, loyalty, menu, onboarding, owner_home, privacy, reports,
                          rights, setup, surveys, system, tickets)
from bot.handlers.onboarding import DeepLink
from bot.ordering import InboundLimit, PerChatUpdateProcessor
from bot.services import Services
from bot.texts import LANGUAGES, Voice
from domain import campaigns as domain_campaigns
from domain import coupons as domain_coupons
from domain import consent, customers, features, receipts, referrals, self_booking
from domain import feedback as domain_feedback
from domain import linking as domain_linking
from domain import surveys as domain_surveys
from domain import tickets as domain_tickets
from nlu.client import NluClient
from nlu.server import KeptRasaServer

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
CUSTOMER, STAFF, OWNER = Who.CUSTOMER, Who.STAFF, Who.OWNER


@dataclass(frozen=True)
class Command:
    names: tuple[str, ...]  # the German name first, then the English one (if it differs)
    callback: Callable
    who: Who = CUSTOMER
    listed_as: str | None = None  # the text key of its line in the command menu; None: not listed


@dataclass(frozen=True)
class Button:
    pattern: str  # the callback data it answers
    callback: Callable
    who: Who = CUSTOMER


# Every command, who may use it, and its line in the command menus (in this order).
COMMANDS = (
    # An owner's plain /start opens the owner home; everyone else (and every deep link) is onboarded.
    Command(("start",), owner_home.start_or_owner_home(onboarding.start_command((
        DeepLink(receipts.PAYLOAD_PREFIX, loyalty.scan_receipt),
        DeepLink(referrals.PAYLOAD_PREFIX, loyalty.arrive_by_referral),
        # Scanned at the counter: staff see the customer, or the code with its "Einlösen" button.
        DeepLink(loyalty.CARD_PAYLOAD_PREFIX, counter.card_scanned, staff_only=True, at_counter=True),
        DeepLink(domain_coupons.PAYLOAD_PREFIX, codes.code_scanned, at_counter=True),  # customers: their own code
    ))), listed_as="commands.start"),
    Command(("punkte", "points"), loyalty.points_command, listed_as="commands.points"),
    Command(("karte", "card"), loyalty.card_command, listed_as="commands.card"),
    Command(("praemien", "rewards"), loyalty.rewards_command, listed_as="commands.rewards"),
    Command(("empfehlen", "invite"), loyalty.referral_command, listed_as="commands.invite"),
    Command(("geburtstag", "birthday"), loyalty.birthday_command, listed_as="commands.birthday"),
    Command(("feedback",), feedback.feedback_command, listed_as="commands.feedback"),
    Command(("beschwerde", "complaint"), tickets.complaint_command, listed_as="commands.complaint"),
    Command(("hilfe", "help"), menu.help_command, listed_as="commands.help"),
    Command(("sprache", "language"), menu.language_command, listed_as="commands.language"),
    Command(("einstellungen", "settings"), customer_settings.settings_command, listed_as="settings.command"),
    Command(("stop",), menu.stop_command, listed_as="commands.stop"),
    Command(("datenschutz", "privacy"), privacy.privacy_command, listed_as="privacy.command"),
    Command(("verbinden", "link"), linking.link_command),
    Command(("kauf", "buy"), counter.purchase_command, STAFF, "commands.kauf"),
    Command(("storno", "reverse"), counter.reversal_command, STAFF, "commands.storno"),
    Command(("beleg", "receipt"), counter.receipt_command, STAFF, "commands.beleg"),
    Command(("kunde", "customer"), counter.customer_command, STAFF, "commands.kunde"),
    Command(("einloesen", "redeem"), counter.redeem_code_command, STAFF, "commands.einloesen"),
    Command(("tickets",), tickets.tickets_command, STAFF, "commands.tickets"),
    Command(("ticket",), tickets.ticket_command, STAFF, "commands.ticket"),
    Command(("uebersicht", "home"), owner_home.owner_home, OWNER, "owner_home.command"),
    Command(("nps",), reports.nps_command, OWNER, "reports.command_nps"),
    Command(("loop",), reports.loop_command, OWNER, "reports.command_loop"),
    Command(("bericht", "report"), key_figures.report_command, OWNER, "key_figures.command"),
    Command(("broadcast",), campaigns.broadcast_command, OWNER, "campaigns.command_broadcast"),
    Command(("planen", "schedule"), campaigns.plan_command, OWNER, "campaigns.command_plan"),
    Command(("kampagnen", "campaigns"), campaigns.list_command, OWNER, "campaigns.command_list"),
    Command(("abbrechen", "stopcampaign"), campaigns.cancel_command, OWNER, "campaigns.command_cancel"),
    Command(("segment",), campaigns.segment_command, OWNER, "campaigns.command_segment"),
    Command(("export",), exports.export_command, OWNER, "export.command"),  # CSV files for the accountant
    # One-off closures on top of config.yml's opening hours: tickets and the FAQ answer skip them.
    Command(("geschlossen", "closed"), closures.closed_command, OWNER, "closures.command"),
    # Customers' rights to their data (access and erasure), and the owners' hand for requests.
    Command(("meinedaten", "mydata"), rights.my_data_command),
    Command(("loeschen", "delete"), rights.delete_command),
    Command(("kunde_export", "customer_export"), rights.customer_export_command, OWNER, "rights.command_export"),
    Command(("kunde_loeschen", "customer_erase"), rights.customer_erase_command, OWNER, "rights.command_erase"),
)

# What the NLU understood, by intent (small talk and help are answered in bot.handlers.conversation).
INTENT_HANDLERS = {
    "faq": menu.on_faq_intent,
    "human_handoff": tickets.on_handoff_intent,
    "opt_out": menu.on_marketing_intent,
    "opt_in": menu.on_marketing_intent,
    "complaint": tickets.on_complaint_intent,
    "check_points": loyalty.on_points_intent,
    "rewards_catalog": loyalty.on_rewards_intent,
    "redeem_reward": loyalty.on_rewards_intent,
    "set_birthday": loyalty.on_birthday_intent,
    "feedback": feedback.on_feedback_intent,
    "export_data": rights.on_export_intent,
    "delete_data": rights.on_delete_intent,
}

BUTTONS = (
    Button(r"^consent:(yes|no)$", onboarding.consent_answer),
    Button(r"^loyalty:(points|rewards|card)$", loyalty.loyalty_button),
    Button(r"^reward:[a-z][a-z0-9_]{0,30}$", loyalty.reward_button),
    Button(r"^redeem:([0-9a-f]{12}|cancel)$", loyalty.redeem_button),
    Button(r"^bday:(yes|no):[0-9a-f]{12}$", loyalty.birthday_button),
    Button(r"^import:(yes|no)$", imports.confirm_button),
    Button(owner_home.BUTTON_PATTERN, owner_home.home_button, OWNER),
    Button(reports.LOOP_PATTERN, reports.loop_button, OWNER),
    Button(campaigns.BUTTON_PATTERN, campaigns.confirm_button, OWNER),
    Button(campaigns.HOLDOUT_PATTERN, campaigns.holdout_button, OWNER),
    Button(tickets.STAFF_PATTERN, tickets.staff_button, STAFF),
    Button(tickets.GOODWILL_PATTERN, tickets.goodwill_button, STAFF),
    Button(tickets.UNDO_PATTERN, tickets.undo_button, STAFF),
    Button(self_booking.PATTERN, counter.held_button, STAFF),  # a colleague's own booking, held
    Button(counter.UNDO_PATTERN, counter.undo_button, STAFF),  # "Rückgängig" under a booking
    Button(codes.PATTERN, codes.redeem_button, STAFF),  # "Einlösen" under a scanned reward or coupon code
    Button(tickets.FOLLOW_UP_PATTERN, tickets.follow_up_button),
    Button(tickets.CALL_PATTERN, tickets.call_button),
    Button(surveys.SCORE_PATTERN, surveys.score_button),
    Button(surveys.SKIP_PATTERN, surveys.skip_button),
    Button(r"^menu:(main|faq|marketing|language)$", menu.menu_button),
    Button(r"^faq:[a-z][a-z0-9_]{0,39}$", menu.faq_button),
    Button(r"^lang:(de|en)$", menu.language_button),
    Button(r"^handoff$", tickets.handoff_button),
    Button(r"^handoff:cancel$", tickets.cancel_request_button),
    Button(r"^marketing:(ask|on|off|keep)$", menu.marketing_button),
    Button(customer_settings.BUTTON_PATTERN, customer_settings.settings_button),
    Button(rights.ERASE_PATTERN, rights.erase_button),
    Button(rights.OWNER_PATTERN, rights.owner_erase_button, OWNER),
    Button(setup.STAFF_GROUP_PATTERN, setup.staff_group_button, OWNER),  # "make it the staff group"
    Button(clarify.BUTTON_PATTERN, clarify.clarification_button(INTENT_HANDLERS)),  # "complaint or feedback?"
)

# A customer's next message, by the step their conversation is in, and what the NLU understood.
ROUTES = conversation.Routes(
    steps={
        domain_campaigns.TEXT_STEP: campaigns.take_message,  # the owner's campaign text or photo
        domain_surveys.REASON_STEP: surveys.take_reason,  # why they gave that score
        domain_tickets.DETAILS_STEP: tickets.take_details,  # what went wrong, after /beschwerde
        domain_tickets.TOPIC_STEP: tickets.take_topic,  # what it is about, after "Mit dem Team sprechen"
        domain_feedback.FEEDBACK_STEP: feedback.take_feedback,  # the answer to /feedback
        customers.BIRTHDAY_ASK_STEP: loyalty.take_birthday,  # the answer to /geburtstag
        customers.NAME_STEP: customer_settings.take_name,  # "Name ändern" in /einstellungen
        domain_linking.PHONE_STEP: linking.take_skip,  # "Überspringen" under the phone-number keyboard
    },
    answers={consent.MARKETING_STEP: menu.answer_marketing_question},  # "ja" to "keine Werbung mehr?"
    intents=INTENT_HANDLERS,
    typed_score=surveys.answer_typed_score,
    relay=tickets.relay_to_ticket,
    looks_like_a_score=lambda text: surveys.typed_score(text) is not None,
)


def _whole(pattern: str) -> re.Pattern:
    """A button's pattern for the whole callback data: PTB matches with ``re.match``, where "$"
    also matches before a final newline, so forged data like "loyalty:points\n" reached a handler
    that does not expect it (and failed there) instead of the stale-button answer."""
    return re.compile(rf"(?:{pattern})\Z")


def handlers(staff_chat_id: int | None = None, staff_chat: filters.Chat | None = None) -> list:
    """Who answers what, top to bottom; the first matching handler wins. ``staff_chat`` is the
    filter of the staff group (``Services.use_staff_chat`` moves it with the group)."""
    staff_chat = staff_chat or (filters.Chat(staff_chat_id) if staff_chat_id is not None else None)
    # Staff and owner commands work privately and in the staff group (bot.access checks who).
    team_chats = PRIVATE | staff_chat if staff_chat is not None else PRIVATE
    # In the staff chat, replies to a ticket's messages (texts, photos, files) go to the customer.
    staff_chat_handlers = [MessageHandler(staff_chat & filters.UpdateType.MESSAGE & ~filters.COMMAND
                                          & (filters.TEXT | filters.PHOTO | filters.Document.ALL),
                                          tickets.on_staff_message)] if staff_chat else []
    # Without a staff group, an owner's reply to a ticket's message goes to its customer; a staff
    # member's answer to a scanned card's "Welcher Betrag?" books the purchase.
    talk = counter.amount_answers_or(tickets.owner_answers_or(conversation.message_handler(ROUTES)))
    return [
        MessageHandler(filters.StatusUpdate.MIGRATE, system.on_chat_migrated),  # a group became a supergroup
        *(CommandHandler(list(command.names), guarded(command.callback, command.who),
                         filters=PRIVATE if command.who is CUSTOMER else team_chats) for command in COMMANDS),
        MessageHandler(PRIVATE & filters.COMMAND, menu.unknown_command),
        *staff_chat_handlers,
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & filters.CONTACT, linking.on_contact),
        # A customer's file on their open ticket goes to the team (an owner's reply to a ticket's
        # message, without a staff group, to its customer); any other file is an owner's import.
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & filters.Document.ALL,
                       tickets.owner_answers_or(tickets.customer_files_on_ticket_or(imports.on_document))),
        # The one-time owner code; any other text: talk.
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & filters.Regex(setup.CODE_SHAPE),
                       setup.owner_code_message(talk)),
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE, talk),
        *(CallbackQueryHandler(guarded(button.callback, button.who, button=True), pattern=_whole(button.pattern))
          for button in BUTTONS),
        CallbackQueryHandler(system.stale_button),  # anything else: outdated or forged
        ChatMemberHandler(system.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
        ChatMemberHandler(staff.on_staff_chat_member, ChatMemberHandler.CHAT_MEMBER),  # staff rights follow at once
    ]


def _menu(services: Services, who: Who, voice: Voice, language: str) -> list[BotCommand]:
    index = 0 if language == "de" else 1
    return [BotCommand(command.names[min(index, len(command.names) - 1)],
                       services.texts.plain(command.listed_as, voice)[:256])
            for command in COMMANDS if command.who is who and command.listed_as]


def command_list(services: Services, language: str) -> list[BotCommand]:
    return _menu(services, CUSTOMER, Voice(language, services.config.formal and language == "de"), language)


def staff_command_list(services: Services) -> list[BotCommand]:
    """The team's commands, named in the shop's language (/kauf or /buy)."""
    return _menu(services, STAFF, services.staff_voice, services.staff_voice.language)


def owner_command_list(services: Services) -> list[BotCommand]:
    """In an owner's private chat: the customer commands, the counter's and the reports."""
    return (command_list(services, services.config.shop.language) + staff_command_list(services)
            + _menu(services, OWNER, services.staff_voice, services.staff_voice.language))


class Runtime:
    """What runs beside the PTB Application and must be started and stopped with it."""

    def __init__(self, services: Services, bundled_model: Path | None):
        self.services = services
        self.bundled_model = bundled_model
        self.rasa: KeptRasaServer | None = None
        self.dispatcher: OutboxDispatcher | None = None
        self.timers: Timers | None = None
        self._started_at = 0.0

    async def start(self, application: Application) -> None:
        s = self.services
        await application.bot.set_my_commands(command_list(s, s.config.shop.language))
        for language in LANGUAGES:
            await application.bot.set_my_commands(command_list(s, language), language_code=language)
        if s.config.staff.staff_chat_id is not None:
            await self._offer_commands(application, s.config.staff.staff_chat_id, staff_command_list(s))
        for admin_id in s.config.staff.admin_ids:
            await self._offer_commands(application, admin_id, owner_command_list(s))
        self.dispatcher = OutboxDispatcher(s, application.bot, features.outbox_hooks(s.config))
        self.dispatcher.start()
        self.timers = Timers(s)
        self.timers.start()
        if s.settings.nlu_url:
            s.nlu = NluClient(s.settings.nlu_url, timeout=s.config.nlu.timeout_seconds)
            s.nlu_settled.set()
        elif self.bundled_model is not None:
            # Rasa needs 20-70 s to load. Commands and buttons work meanwhile; free text waits for
            # it (bot.handlers.conversation), so nobody is told "I can't understand" after a
            # restart. The same when the server dies and is started again.
            self._started_at = asyncio.get_running_loop().time()
            self.rasa = KeptRasaServer(self.bundled_model, s.settings, self._nlu_up, self._nlu_down,
                                       s.nlu_settled.set)
            s.nlu_lost = self.rasa.lost
            self.rasa.start()
        else:
            s.nlu_settled.set()
        log.info("bot started", extra={"bot": application.bot.username})

    async def _offer_commands(self, application: Application, chat_id: int, commands: list[BotCommand]) -> None:
        try:
            await application.bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
        except TelegramError as error:  # e.g. not in the group yet, or an owner who never wrote: not fatal
            log.warning("could not set a chat's commands", extra={"chat_id": chat_id, "error": str(error)})

    def _nlu_up(self, url: str, seconds: float) -> None:
        s = self.services
        if s.nlu is None or s.nlu.base_url != url:
            if s.nlu is not None:
                asyncio.get_running_loop().create_task(s.nlu.aclose())
            s.nlu = NluClient(url, timeout=s.config.nlu.timeout_seconds, model_id=self.bundled_model.name)
        s.nlu_settled.set()
        after_start = asyncio.get_running_loop().time() - self._started_at
        log.info("nlu ready for the bot", extra={"seconds_after_start": round(after_start, 1),
                                                 "seconds_to_load": round(seconds, 1), "starts": self.rasa.starts})

    def _nlu_down(self) -> None:
        """The bundled server died and is starting again: free text waits for it, as at start."""
        self.services.nlu_settled.clear()

    async def stop(self, application: Application) -> None:
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
    limits = services.config.limits
    processor = PerChatUpdateProcessor(inbound=InboundLimit(limits.messages_at_once, limits.then_one_every_seconds))
    application = (
        ApplicationBuilder()
        .token(settings.token())
        .base_url(settings.bot_api_url)
        .base_file_url(settings.bot_file_url)
        .concurrent_updates(processor)
        # Telegram's flood limits for everything the bot sends (replies, staff group, outbox).
        .rate_limiter(TelegramRateLimiter(settings.max_messages_per_second))
        .post_init(runtime.start)
        .post_stop(stop_sending)  # the outbox stops while the bot can still send
        .post_shutdown(runtime.stop)
        .build()
    )
    application.bot_data["services"] = services
    processor.on_flood = functools.partial(system.tell_to_slow_down, application)
    # Always a filter (empty without a group), so a group an owner chooses later works at once.
    services.staff_chat_filter = filters.Chat(services.config.staff.staff_chat_id)
    application.add_handlers(handlers(services.config.staff.staff_chat_id, services.staff_chat_filter))
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
