"""The owner home: what an owner's plain ``/start`` (and ``/uebersicht``, ``/home``) opens
instead of the customer onboarding. One message: a greeting, the setup checklist
(domain.setup_checklist) with a hint for each open item, and buttons for the owner's everyday
tasks and for seeing the bot as a customer does.

The buttons run the existing owner commands where they work without arguments; the others
say how to do it. Owners only (bot.access guards the command and the buttons; a forged
``home:`` press by anyone else is refused there and changes nothing).
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.chat import identify, send_html
from bot.handlers import campaigns, exports, key_figures, tickets
from bot.menus import show_menu
from bot.owner import Owner, owner_of, say, say_together
from bot.services import Services, services
from bot.staff import is_admin
from domain import segments, setup_checklist

log = logging.getLogger(__name__)

PREFIX = "home:"
BUTTON_PATTERN = r"^home:(report|campaigns|tickets|segments|import|export|customer)$"
# The buttons, two to a row; "customer" gets a row of its own, it leaves the owner's view.
_ROWS = (("report", "campaigns"), ("tickets", "segments"), ("import", "export"), ("customer",))


def start_or_owner_home(start):
    """``start`` (the customer onboarding) with one exception: an owner's plain /start in their
    private chat opens the owner home. Deep links (receipts, scanned cards) stay with ``start``."""

    async def start_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if (update.effective_chat.type == "private" and not context.args
                and user is not None and is_admin(context, user.id)):
            await owner_home(update, context)
            return
        await start(update, context)

    return start_command


async def owner_home(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The greeting, the checklist and the buttons, as one message (private chat only)."""
    s = services(context)
    chat = update.effective_chat
    if chat.type != "private":  # the checklist and the buttons are for the owner's eyes only
        await send_html(context.bot, chat.id, s.texts.render("owner_home.private_only", s.staff_voice))
        return
    owner = await owner_of(update, context)
    items = setup_checklist.checklist(await _facts(context, s))
    open_items = sum(not item.done for item in items)
    log.info("owner home", extra={"open_items": open_items})
    text = "\n\n".join((s.texts.render("owner_home.greeting", owner.voice, name=update.effective_user.first_name),
                        _checklist_text(s, owner, items)))
    await send_html(context.bot, owner.chat_id, text, _keyboard(s, owner))


async def _facts(context: ContextTypes.DEFAULT_TYPE, s: Services) -> setup_checklist.SetupFacts:
    config, settings = s.config, s.settings
    return setup_checklist.SetupFacts(
        staff_chat_id=config.staff.staff_chat_id,
        bot_admin_in_staff_chat=await _bot_is_admin_of(context, config.staff.staff_chat_id),
        missing_privacy_keys=config.privacy.missing_notice_keys(),
        faq_is_sample=setup_checklist.faq_is_sample(s.faq.answers()),
        receipt_secret_set=settings.receipt_key() is not None,
        webhook_mode=settings.webhook_url is not None,
        webhook_secret_set=settings.webhook_secret is not None and bool(settings.webhook_secret.get_secret_value()),
        owners_out_of_reach=await s.read(setup_checklist.owners_out_of_reach, config.staff.admin_ids),
    )


async def _bot_is_admin_of(context: ContextTypes.DEFAULT_TYPE, chat_id: int | None) -> bool | None:
    """Asked from Telegram each time (the owner may have just promoted the bot); None: no group,
    or Telegram could not say (the bot is not in the group, the group is gone, the network)."""
    if chat_id is None:
        return None
    try:
        member = await context.bot.get_chat_member(chat_id, context.bot.id)
    except TelegramError as error:
        log.info("staff chat membership not checked", extra={"error": str(error)})
        return None
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


def _checklist_text(s: Services, owner: Owner, items: list[setup_checklist.Item]) -> str:
    if setup_checklist.all_done(items):
        return s.texts.render("owner_home.all_done", owner.voice)
    lines = [s.texts.render("owner_home.checklist_title", owner.voice)]
    lines += [_item_line(s, owner, item) for item in items]
    return "\n".join(lines)


def _item_line(s: Services, owner: Owner, item: setup_checklist.Item) -> str:
    if item.done:
        return "✅ " + s.texts.render(f"owner_home.items.{item.key}.done", owner.voice)
    state = "unknown" if item.detail == setup_checklist.COULD_NOT_CHECK else "open"
    hint = s.texts.render(f"owner_home.items.{item.key}.{state}", owner.voice, detail=item.detail or "")
    return "⬜ " + hint


def _keyboard(s: Services, owner: Owner) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(s.texts.plain(f"owner_home.buttons.{action}", owner.voice),
                              callback_data=PREFIX + action) for action in row]
        for row in _ROWS])


async def home_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button of the owner home (bot.access has let only owners through)."""
    await update.callback_query.answer()
    action = update.callback_query.data.removeprefix(PREFIX)
    log.info("owner home button", extra={"action": action})
    await _ACTIONS[action](update, context)


async def _import_how_to(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    # A CSV file sent to the bot is the import (bot.handlers.imports); there is no command.
    await say(context, await owner_of(update, context), "owner_home.import_how_to")


async def _segments_how_to(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    # /segment without a segment lists them; the owner also needs to hear how to use one.
    s = services(context)
    owner = await owner_of(update, context)
    await say_together(context, owner, ("segments.help", segments.help_params(s.campaign_rules.segments)),
                       ("owner_home.segments_how_to", {}))


async def _as_customer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show_menu(context, await identify(update, context))


# The owner commands called without arguments: they find none in a button's update either
# (bot.owner.arguments reads "/command ..." only), so each gives its overview or its how-to.
_ACTIONS = {
    "report": key_figures.report_command,
    "campaigns": campaigns.list_command,
    "tickets": tickets.tickets_command,
    "segments": _segments_how_to,
    "import": _import_how_to,
    "export": exports.export_command,
    "customer": _as_customer,
}
