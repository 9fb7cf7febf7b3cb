"""Staff at the counter: book a purchase, reverse one, print a receipt QR code, look up a
customer, redeem a reward code. In the staff group or privately; only staff (bot.staff).

A scanned card shows the customer and asks "Welcher Betrag?"; the staff member's answer books it
(scan + one number). Every booking confirmation has "Rückgängig" for a few minutes.

Staff texts are in the shop's language. A purchase booked from a Telegram message uses that
message as idempotency key, so a redelivered update never books twice.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import formatting, qr, staff
from bot.chat import Handler, Visitor, answering_or, deep_link, edit_unless_unchanged, replied_bot_message, send_html
from bot.owner import close_preview
from bot.services import Services, services
from domain import counter, coupons, customers, purchases, receipts, rewards, self_booking, team
from domain.rules import codes
from domain.outbox import money_param
from domain.rules.errors import Refusal
from domain.rules.parsing import InputError, parse_amount

log = logging.getLogger(__name__)

MAX_CATEGORY = 40
UNDO_PATTERN = r"^buy:undo:\d{1,12}$"
# An answer to "Welcher Betrag?" that is typed without replying must look like one: an amount,
# perhaps a category after it ("12,50 Bohnen"); anything else a staff member writes is talk.
AMOUNT_ANSWER = re.compile(r"^\s*(?P<amount>(?:(?:eur|€)\s*)?-?[0-9][0-9.,]{0,12}\s*(?:€|eur|euro)?)"
                           r"(?:\s+(?P<category>\S.{0,79}))?\s*$", re.IGNORECASE | re.DOTALL)
CANCEL_WORDS = {"abbrechen", "abbruch", "cancel", "nein", "no", "x"}


async def _find_customer(update, context, who: str):
    """A customer by code or @username; answers the staff member when there is none."""
    s = services(context)
    if who.startswith("@"):
        customer = await s.db(customers.find_by_username, who)
    else:
        code = codes.normalize(who, codes.CUSTOMER_CODE_LENGTH)
        if code is None:
            await staff.answer(update, context, "counter.bad_code", who=who[:40])
            return None
        customer = await s.db(customers.find_by_code, code)
    if customer is None:
        await staff.answer(update, context, "counter.unknown_customer", who=who[:40])
    return customer


def _parse_amount(s: Services, text: str) -> Decimal:
    return parse_amount(text, maximum=s.config.loyalty.max_purchase_amount)


async def _amount_error(update, context, error: InputError) -> None:
    s = services(context)
    await staff.answer(update, context, f"counter.amount_errors.{error.reason}", value=error.value[:40],
                 maximum=money_param(purchases.cents(s.config.loyalty.max_purchase_amount)))


async def purchase_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/kauf <code|@username> <amount> [category]"""
    s = services(context)
    args = context.args or []
    if len(args) < 2:
        await staff.answer(update, context, "counter.usage_purchase")
        return
    category = " ".join(args[2:]).strip() or None
    if category and len(category) > MAX_CATEGORY:
        await staff.answer(update, context, "counter.bad_category")
        return
    try:
        amount = _parse_amount(s, args[1])
    except InputError as error:
        await _amount_error(update, context, error)
        return
    customer = await _find_customer(update, context, args[0])
    if customer is None:
        return
    message = update.effective_message
    try:
        booking = await s.db(counter.book_purchase_at_counter, customer.id, amount, s.config, s.now(),
                             key=f"telegram:{message.chat_id}:{message.message_id}", source=purchases.COUNTER,
                             category=category, booked_by=update.effective_user.id)
    except team.SelfService as refusal:
        await staff.refuse_self_service(update, context, refusal, args[1][:20])
        return
    await _reply_booking(update, context, booking)


async def _reply_booking(update, context, booking: purchases.Booking) -> None:
    if booking.duplicate:
        await staff.answer(update, context, "counter.booked_again", purchase=booking.purchase.id)
        return
    s = services(context)
    text = s.texts.render("counter.booked", s.staff_voice, amount=money_param(booking.purchase.amount_cents),
                          name=booking.customer.first_name, code=booking.customer.code, points=booking.points,
                          balance=booking.balance, tier=booking.tier.tier.name_param(), purchase=booking.purchase.id)
    # Silent: the one who booked is looking at it; the staff group's phones ring for tickets only.
    await send_html(context.bot, update.effective_chat.id, text, _undo_keyboard(s, booking.purchase.id),
                    disable_notification=True)
    if booking.upgraded:
        await staff.answer(update, context, "counter.tier_upgrade", name=booking.customer.first_name,
                     tier=booking.tier.tier.name_param())


async def reversal_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/storno <purchase number> <reason>"""
    s = services(context)
    args = context.args or []
    if len(args) < 2:
        await staff.answer(update, context, "counter.usage_reversal")
        return
    number = args[0].lstrip("#")
    if not number.isascii() or not number.isdigit() or len(number) > 12:
        await staff.answer(update, context, "counter.reversal_errors.bad_number", value=args[0][:40])
        return
    try:
        reversal = await s.db(purchases.reverse_purchase, int(number), " ".join(args[1:]), s.now(), s.config.loyalty)
    except purchases.ReversalError as error:
        await staff.answer(update, context, f"counter.reversal_errors.{error.reason}", purchase=number)
        return
    await staff.answer(update, context, "counter.reversed", purchase=reversal.purchase.id,
                 amount=money_param(reversal.purchase.amount_cents), name=reversal.customer.first_name,
                 points=reversal.points, balance=reversal.balance)


async def receipt_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/beleg <amount>: a one-time QR code for the customer to scan."""
    s = services(context)
    if not context.args:
        await staff.answer(update, context, "counter.usage_receipt")
        return
    try:
        amount = _parse_amount(s, context.args[0])
    except InputError as error:
        await _amount_error(update, context, error)
        return
    if not s.settings.receipt_key():
        await staff.answer(update, context, "counter.receipt_disabled")
        return
    now = s.now()
    token = receipts.issue(s.settings.receipt_key(), amount, now, s.config.loyalty.receipt_valid_minutes)
    link = deep_link(context, receipts.PAYLOAD_PREFIX + token)
    valid_until = s.local(receipts.verify(s.settings.receipt_key(), token, now).expires_at)
    caption = s.texts.render("counter.receipt_caption", s.staff_voice, amount=money_param(purchases.cents(amount)), link=link,
                             valid_until=formatting.time_of_day(valid_until, s.staff_voice.language))
    await context.bot.send_photo(update.effective_chat.id, qr.png(link), caption=caption, parse_mode=ParseMode.HTML)


async def customer_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/kunde <code|@username>: tier, balance and the last purchases."""
    if not context.args:
        await staff.answer(update, context, "counter.usage_customer")
        return
    customer = await _find_customer(update, context, context.args[0])
    if customer is not None:
        await _show_customer(update, context, customer)


async def _show_customer(update, context, customer) -> None:
    await send_html(context.bot, update.effective_chat.id, "\n".join(await _customer_lines(context, customer)))


async def _customer_lines(context, customer) -> list[str]:
    """Who they are, their tier and balance, open reward codes and the last purchases."""
    s = services(context)
    voice, texts = s.staff_voice, s.texts
    summary = await s.db(counter.look_up_customer, customer.id, s.config.loyalty, s.now())
    status, recent, open_codes = summary.status, summary.recent, summary.open_codes
    lines = [texts.render("counter.customer", voice, name=customer.first_name, code=customer.code,
                          tier=status.tier.tier.name_param(), balance=status.balance,
                          since=s.local(customer.created_at).date())]
    if customer.birthday_month:
        lines.append(texts.render("counter.customer_birthday", voice,
                                  date=f"{customer.birthday_day:02d}.{customer.birthday_month:02d}."))
    if open_codes:
        lines.append(texts.render("counter.customer_open_rewards", voice,
                                  codes=", ".join(f"{r.reward_name} ({codes.grouped(r.code)})" for r in open_codes)))
    lines += ["", texts.render("counter.customer_purchases_title", voice)]
    for purchase in recent:
        key = "counter.customer_purchase_reversed" if purchase.reversed else "counter.customer_purchase_line"
        lines.append(texts.render(key, voice, date=formatting.short_date(s.local(purchase.created_at).date(), voice.language),
                                  amount=money_param(purchase.amount_cents), purchase=purchase.id,
                                  category=f" · {purchase.category}" if purchase.category else ""))
    if not recent:
        lines.append(texts.render("counter.customer_no_purchases", voice))
    return lines


async def card_scanned(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, code_text: str) -> None:
    """Staff scanned a customer's card QR code: one message with the customer and "Welcher
    Betrag?"; the answer books it (``amount_answers_or``)."""
    s = services(context)
    customer = await _find_customer(update, context, code_text)
    if customer is None:
        return
    lines = await _customer_lines(context, customer)
    lines += ["", s.texts.render("counter.amount_prompt", s.staff_voice)]
    placeholder = s.texts.plain("counter.amount_placeholder", s.staff_voice)[:64]
    prompt = await send_html(context.bot, update.effective_chat.id, "\n".join(lines),
                             ForceReply(selective=True, input_field_placeholder=placeholder))
    await s.db(counter.ask_for_amount, prompt.chat_id, prompt.message_id, customer.id, update.effective_user.id,
               s.now())


# --- the answer to "Welcher Betrag?" -----------------------------------------------------------

def amount_answers_or(other_messages: Handler) -> Handler:
    """Private messages: a staff member's answer to a scanned card's "Welcher Betrag?" (a reply to
    it, or an amount typed while it is open) books the purchase; every other message goes on to
    ``other_messages``."""
    return answering_or(_amount_question_answered, _book_answered_amount, other_messages)


async def _amount_question_answered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | None:
    """The open "Betrag?" message this text answers, if it answers one (and comes from staff)."""
    message, user = update.effective_message, update.effective_user
    if message is None or not message.text or user is None:
        return None
    replied_id = replied_bot_message(update, context)
    if replied_id is None and not (AMOUNT_ANSWER.match(message.text) or message.text.strip().casefold() in CANCEL_WORDS):
        return None  # the cheap check first: most private texts are customers talking
    s = services(context)
    prompt_id = await s.read(counter.open_amount_question, message.chat_id, user.id, replied_id, s.now())
    if prompt_id is None or not await staff.is_staff(update, context):
        return None
    return prompt_id


async def _book_answered_amount(update: Update, context: ContextTypes.DEFAULT_TYPE, prompt_id: int) -> None:
    s = services(context)
    message = update.effective_message
    text = message.text.strip()
    if text.casefold() in CANCEL_WORDS:
        await s.db(counter.close_amount_question, message.chat_id, prompt_id)
        await staff.answer(update, context, "counter.amount_cancelled")
        return
    answer = AMOUNT_ANSWER.match(text)
    category = (answer.group("category") or "").strip() or None if answer else None
    if category and len(category) > MAX_CATEGORY:
        await staff.answer(update, context, "counter.bad_category")
        return
    try:
        amount = _parse_amount(s, answer.group("amount") if answer else text[:40])
    except InputError as error:
        await _amount_error(update, context, error)  # the question stays open for the right amount
        return
    try:
        booking = await s.db(counter.book_answered_amount, message.chat_id, prompt_id, amount, s.config, s.now(),
                             key=f"telegram:{message.chat_id}:{message.message_id}", source=purchases.COUNTER,
                             category=category, booked_by=update.effective_user.id)
    except counter.AmountQuestionGone:
        await staff.answer(update, context, "counter.amount_gone")
        return
    except team.SelfService as refusal:
        await staff.refuse_self_service(update, context, refusal, text[:20])
        return
    await _reply_booking(update, context, booking)


# --- "Rückgängig" under a booking --------------------------------------------------------------

def _undo_keyboard(s: Services, purchase_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(s.texts.plain("counter.undo_button", s.staff_voice),
                                                       callback_data=f"buy:undo:{purchase_id}")]])


async def undo_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """buy:undo:<purchase>: take back a counter booking made a few minutes ago (staff only)."""
    s = services(context)
    query = update.callback_query
    purchase_id = int(query.data.rsplit(":", 1)[1])
    try:
        reversal = await s.db(counter.undo_counter_booking, purchase_id, s.now(), s.config.loyalty)
    except counter.UndoRefusal as refusal:
        await query.answer(s.texts.plain(f"counter.undo_errors.{refusal.reason}", s.staff_voice, purchase=purchase_id),
                           show_alert=refusal.reason == "too_late")
        if refusal.reason != "unknown":
            await edit_unless_unchanged(query.edit_message_reply_markup(None))
        return
    await query.answer()
    text = s.texts.render("counter.undone", s.staff_voice, purchase=reversal.purchase.id,
                          amount=money_param(reversal.purchase.amount_cents), name=reversal.customer.first_name,
                          balance=reversal.balance)
    await edit_unless_unchanged(query.edit_message_text(text, parse_mode=ParseMode.HTML))


async def redeem_code_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/einloesen <reward or coupon code>"""
    s = services(context)
    if not context.args:
        await staff.answer(update, context, "counter.usage_redeem")
        return
    typed = "".join(context.args)
    try:
        used = await s.db(coupons.redeem_any, typed, update.effective_user.id, s.now())
    except team.SelfService as refusal:
        await staff.refuse_self_service(update, context, refusal, typed[:20])
        return
    except rewards.UseError as error:
        when = error.used_at if error.reason == "already_used" else error.expires_at
        await staff.answer(update, context, f"counter.redeem_errors.{error.reason}", value=typed[:40],
                     date=formatting.short_date(s.local(when).date(), s.staff_voice.language) if when else "",
                     reward=error.reward_name or "")
        return
    await staff.answer(update, context, "counter.redeemed", reward=used.offer, name=used.customer_name,
                 code=used.customer_code)


async def held_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Bestätigen" / "Ablehnen" under a self-booking held for confirmation (held:ok|no:<id>:<nonce>):
    another member of the team books it, or drops it."""
    s = services(context)
    query = update.callback_query
    _, answer, held_id, nonce = query.data.split(":")
    confirmed = answer == "ok"
    try:
        await s.db(self_booking.decide, int(held_id), nonce, update.effective_user.id, confirmed, s.config, s.now())
    except self_booking.HoldRefusal as refusal:
        await query.answer(s.texts.plain(f"team.self_booking_errors.{refusal.reason}", s.staff_voice))
        return
    except Refusal as refusal:  # e.g. the code was used meanwhile, or it is the presser's own account
        log.info("held self-booking not booked", extra={"reason": refusal.reason})
        await query.answer(s.texts.plain("team.self_booking_errors.failed", s.staff_voice))
        return
    await query.answer()
    note = "team.self_booking_confirmed_note" if confirmed else "team.self_booking_declined_note"
    await close_preview(update, s.texts.render(note, s.staff_voice, staff=staff.staff_name(update)))
