"""Staff at the counter: book a purchase, reverse one, print a receipt QR code, look up a
customer, redeem a reward code. In the staff group or privately; only staff (bot.staff).

Staff texts are in the shop's language. A purchase booked from a Telegram message uses that
message as idempotency key, so a redelivered update never books twice.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import formatting, qr, staff
from bot.chat import Visitor, deep_link, send_html
from bot.owner import close_preview
from bot.services import Services, services
from domain import counter, coupons, customers, purchases, receipts, rewards, self_booking, team
from domain.rules import codes
from domain.outbox import money_param
from domain.rules.errors import Refusal
from domain.rules.parsing import InputError, parse_amount

log = logging.getLogger(__name__)

MAX_CATEGORY = 40


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
    await staff.answer(update, context, "counter.booked", amount=money_param(booking.purchase.amount_cents),
                 name=booking.customer.first_name, code=booking.customer.code, points=booking.points,
                 balance=booking.balance, tier=booking.tier.tier.name_param(), purchase=booking.purchase.id)
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
    await send_html(context.bot, update.effective_chat.id, "\n".join(lines))


async def card_scanned(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, code_text: str) -> None:
    """Staff scanned a customer's card QR code: show the customer, ready to book."""
    customer = await _find_customer(update, context, code_text)
    if customer is not None:
        await _show_customer(update, context, customer)
        await staff.answer(update, context, "counter.card_scanned", code=customer.code)


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
