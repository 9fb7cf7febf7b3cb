"""Per-update helpers: who is writing (registering them on first contact) and answering them
in their language, with HTML escaping and splitting done in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.formatting import split_html
from bot.services import Services, services
from bot.texts import Voice
from domain import customers, outbox
from domain.customers import TelegramProfile
from domain.outbox import Attachment


@dataclass(frozen=True)
class Visitor:
    """The customer behind an update, as handlers need them."""

    customer_id: int
    first_name: str
    chat_id: int
    voice: Voice
    is_new: bool
    marketing_consent: bool
    consent_asked: bool


def profile_of(update: Update) -> TelegramProfile:
    user, chat = update.effective_user, update.effective_chat
    return TelegramProfile(
        user_id=user.id, chat_id=chat.id, first_name=user.first_name, last_name=user.last_name,
        username=user.username, language_code=user.language_code,
    )


@dataclass(frozen=True)
class Incoming:
    """What a customer sent, as the use cases need it: the text (a caption), the photo, file,
    voice message ... it carries (``attachment``), and ``ref``, which names the message (an
    idempotency key: a redelivered update does nothing twice)."""

    text: str | None
    attachment: Attachment | None
    ref: str
    is_text: bool = False  # a text message (not a caption)

    @property
    def photo(self) -> str | None:
        """The file id of the photo it is, if it is one (a complaint's picture, a campaign's)."""
        return self.attachment.file_id if self.attachment and self.attachment.kind == outbox.PHOTO else None


def incoming(update: Update) -> Incoming:
    message = update.effective_message
    if message is None:
        return Incoming(None, None, f"update:{update.update_id}")
    return Incoming(message.text if message.text is not None else message.caption, attachment_of(message),
                    f"{message.chat_id}:{message.message_id}", is_text=message.text is not None)


# A GIF arrives as an animation and, for old clients, as a document as well: the animation it is.
_FILE_KINDS = (outbox.ANIMATION, outbox.VIDEO, outbox.VIDEO_NOTE, outbox.VOICE, outbox.AUDIO, outbox.DOCUMENT)


def attachment_of(message: Message) -> Attachment | None:
    """The photo (its largest size), file, voice message ... a message carries, by its file id;
    None for a text, a sticker, a contact. The kinds are named like the Message's fields."""
    if message.photo:
        return Attachment(outbox.PHOTO, message.photo[-1].file_id)
    for kind in _FILE_KINDS:
        media = getattr(message, kind)
        if media is not None:
            return Attachment(kind, media.file_id)
    return None


def visitor_of(s: Services, profile: TelegramProfile, registration: customers.Registration) -> Visitor:
    customer = registration.customer
    language = customers.language_of(customer, profile.language_code, s.config.shop.language)
    return Visitor(
        customer_id=customer.id, first_name=customer.first_name, chat_id=profile.chat_id,
        voice=s.voice(language), is_new=registration.is_new,
        marketing_consent=customer.marketing_consent, consent_asked=customer.consent_asked,
    )


async def identify(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Visitor:
    s = services(context)
    profile = profile_of(update)
    registration = (await s.read(customers.known, profile, s.now())  # a regular: no write lock
                    or await s.db(customers.register, profile, s.now()))
    return visitor_of(s, profile, registration)


async def send_html(bot, chat_id: int, text: str, keyboard: InlineKeyboardMarkup | None = None,
                    **kwargs) -> Message:
    """Send Telegram HTML, split at the length limit; the keyboard goes with the last part."""
    parts = split_html(text)
    message = None
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        message = await bot.send_message(chat_id, part, parse_mode=ParseMode.HTML,
                                         reply_markup=keyboard if last else None,
                                         link_preview_options=None, **kwargs)
    return message


async def say(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, key: str,
              keyboard: InlineKeyboardMarkup | None = None, **params) -> Message:
    return await send_html(context.bot, visitor.chat_id, _rendered_for(context, visitor, key, params), keyboard)


async def say_quietly(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, key: str, **params) -> Message:
    """``say`` without a notification sound: a receipt the customer need not be called to."""
    return await send_html(context.bot, visitor.chat_id, _rendered_for(context, visitor, key, params),
                           disable_notification=True)


def _rendered_for(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, key: str, params: dict) -> str:
    s: Services = services(context)
    return s.texts.render(key, visitor.voice, **{"name": visitor.first_name, **params})


async def say_html(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, html_text: str,
                   keyboard: InlineKeyboardMarkup | None = None) -> Message:
    return await send_html(context.bot, visitor.chat_id, html_text, keyboard)


def deep_link(context: ContextTypes.DEFAULT_TYPE, payload: str) -> str:
    """A t.me link that opens the bot with /start <payload> (at most 64 characters)."""
    return f"https://t.me/{context.bot.username}?start={payload}"


async def edit_unless_unchanged(edit: Awaitable) -> None:
    """Run an edit of a message; Telegram refuses one that changes nothing (a double tap on a
    button), which is fine."""
    try:
        await edit
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


Shown = Callable[[ContextTypes.DEFAULT_TYPE, Visitor], Awaitable[None]]

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def replied_bot_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
    """The id of the bot's message that a person's text, photo or file replies to, if it is one."""
    message = update.effective_message
    user = update.effective_user
    if user is None or user.is_bot or not (message.text or message.photo or message.document):
        return None
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
        return None
    return replied.message_id


T = TypeVar("T")


def answering_or(find: Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[T | None]],
                    answer: Callable[[Update, ContextTypes.DEFAULT_TYPE, T], Awaitable[None]],
                    otherwise: Handler) -> Handler:
    """A private message that answers something the bot asked a member of the team (``find``
    names it: a ticket, an amount question) goes to ``answer``; every other one to ``otherwise``."""

    async def on_private_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        found = await find(update, context)
        if found is None:
            await otherwise(update, context)
        else:
            await answer(update, context, found)

    return on_private_message


def command_showing(show: Shown, doc: str):
    """A command handler that shows the writer something (their points, their data ...)."""
    async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await show(context, await identify(update, context))

    command.__doc__ = doc
    return command


def intent_showing(show: Shown, doc: str):
    """An intent handler (see bot.handlers.conversation.Routes) that shows the same."""
    async def on_intent(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, message: Incoming,
                        result) -> None:
        await show(context, visitor)

    on_intent.__doc__ = doc
    return on_intent
