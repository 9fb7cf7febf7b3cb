"""A reward or coupon code's QR code: the link ``t.me/<bot>?start=code_<code>``, scanned at the
counter.

Staff who open the link get one message: what the code is good for, whose it is and until when
(or that it was used or has expired), with an "Einlösen" button. The button redeems it under
the rules of /einloesen (once, before it expires, not for their own account) and turns the
message into the confirmation. A customer who opens the link sees their own code with its QR
code, and for anyone else's code (or no code at all) one neutral answer that tells them nothing.

The button's callback data carries the code, so it is a staff button in ``bot.app``: anyone
else's press is refused before it reaches ``redeem_button``. Pressed twice, or by two staff
members, the code is still redeemed once (the conditional update of ``domain.coupons``).
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import formatting, qr, staff
from bot.chat import Visitor, deep_link, edit_unless_unchanged, say, send_html
from bot.services import Services, services
from domain import coupons, rewards, team
from domain.rules import codes

log = logging.getLogger(__name__)

BUTTON_PREFIX = "use:"
PATTERN = rf"^{BUTTON_PREFIX}[{codes.ALPHABET}]{{{codes.REWARD_CODE_LENGTH}}}$"


def code_link(context: ContextTypes.DEFAULT_TYPE, code: str) -> str:
    return deep_link(context, coupons.PAYLOAD_PREFIX + code)


def code_qr(context: ContextTypes.DEFAULT_TYPE, code: str) -> bytes:
    """The QR code a customer shows at the counter: the link staff open to redeem the code."""
    return qr.png(code_link(context, code))


async def code_scanned(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, code_text: str) -> None:
    """``/start code_<code>``: the code for staff, with the button; the own code for a customer."""
    if await staff.is_staff(update, context):
        await _show_to_staff(update, context, code_text)
    else:
        await _show_to_customer(context, visitor, code_text)


# --- staff -------------------------------------------------------------------------------------

async def _show_to_staff(update: Update, context: ContextTypes.DEFAULT_TYPE, code_text: str) -> None:
    s = services(context)
    view = await s.db(coupons.look_up, code_text)
    if view is None:
        await staff.answer(update, context, "counter.redeem_errors.unknown_code")
        return
    state = view.state(s.now())
    keyboard = _redeem_keyboard(s, view.code) if state == coupons.OPEN else None
    await send_html(context.bot, update.effective_chat.id, staff_card(s, view, state), keyboard)


def _redeem_keyboard(s: Services, code: str) -> InlineKeyboardMarkup:
    label = s.texts.plain("counter.code_redeem_button", s.staff_voice)
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=BUTTON_PREFIX + code)]])


def staff_card(s: Services, view: coupons.CodeView, state: str) -> str:
    """What the code is good for, whose it is, until when; a used or expired code says so."""
    voice = s.staff_voice
    lines = [s.texts.render("counter.code_card", voice, offer=view.offer, name=view.customer_name,
                            code=view.customer_code or "–", reward_code=codes.grouped(view.code),
                            valid_until=_staff_date(s, view.expires_at))]
    if state == coupons.USED:
        lines.append(s.texts.render("counter.code_card_used", voice, date=_staff_date(s, view.used_at)))
    elif state == coupons.EXPIRED:
        lines.append(s.texts.render("counter.code_card_expired", voice, date=_staff_date(s, view.expires_at)))
    return "\n".join(lines)


def _staff_date(s: Services, moment) -> str:
    return formatting.short_date(s.local(moment).date(), s.staff_voice.language)


async def redeem_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Einlösen" under a scanned code (use:<code>); only staff get here (``bot.app``)."""
    s = services(context)
    query = update.callback_query
    code = query.data.removeprefix(BUTTON_PREFIX)
    try:
        used = await s.db(coupons.redeem_any, code, update.effective_user.id, s.now())
    except team.SelfService as refusal:
        await staff.refuse_self_service(update, context, refusal, codes.grouped(code))
        return
    except rewards.UseError as error:  # used meanwhile (a second press, a colleague), or expired
        log.info("scanned code not redeemed", extra={"reason": error.reason})
        await query.answer(_refusal_toast(s, error))
        await _show_in_place(update, context, code)
        return
    await query.answer()
    await _edit(update, s.texts.render("counter.redeemed", s.staff_voice, reward=used.offer, name=used.customer_name,
                                       code=used.customer_code or "–"))


def _refusal_toast(s: Services, error: rewards.UseError) -> str:
    when = error.used_at if error.reason == "already_used" else error.expires_at
    return s.texts.plain(f"counter.redeem_errors.{error.reason}", s.staff_voice, value="",
                         date=_staff_date(s, when) if when else "", reward=error.reward_name or "")[:200]


async def _show_in_place(update: Update, context: ContextTypes.DEFAULT_TYPE, code: str) -> None:
    """The pressed message shows the code as it is now (used, expired), without the button."""
    s = services(context)
    view = await s.db(coupons.look_up, code)
    if view is not None:
        await _edit(update, staff_card(s, view, view.state(s.now())))


async def _edit(update: Update, text: str) -> None:
    query = update.callback_query
    if query.message is None or not query.message.is_accessible or not query.message.text:
        return  # pressed under a message that is not the code's card (forged data): nothing to edit
    try:
        await edit_unless_unchanged(query.edit_message_text(text, parse_mode=ParseMode.HTML))
    except BadRequest as error:  # e.g. older than 48 hours: the toast said it all
        log.info("code card not editable", extra={"error": str(error)[:120]})


# --- customers ---------------------------------------------------------------------------------

async def _show_to_customer(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, code_text: str) -> None:
    """Their own code, in one message; for anyone else's code the same answer as for no code."""
    s = services(context)
    view = await s.db(coupons.look_up, code_text)
    if view is None or view.customer_id != visitor.customer_id:
        log.info("code link opened by a customer it does not belong to")
        await say(context, visitor, "rewards.code_not_yours")
        return
    offer = _offer_in(s, view, visitor.voice.language)
    state = view.state(s.now())
    if state == coupons.OPEN:
        caption = s.texts.render("rewards.code_own", visitor.voice, offer=offer, code=codes.grouped(view.code),
                                 valid_until=s.local(view.expires_at).date())
        await context.bot.send_photo(visitor.chat_id, code_qr(context, view.code), caption=caption,
                                     parse_mode=ParseMode.HTML)
        return
    when = view.used_at if state == coupons.USED else view.expires_at
    await say(context, visitor, f"rewards.code_own_{state}", offer=offer, date=s.local(when).date())


def _offer_in(s: Services, view: coupons.CodeView, language: str) -> str:
    """A reward's name in the customer's language; a coupon's offer as the shop wrote it."""
    item = rewards.reward(s.config.loyalty, view.reward_key) if view.reward_key else None
    if item is not None and language == "en" and item.name_en:
        return item.name_en
    return view.offer
