"""The loyalty program as customers see it: card, points, rewards, referrals, birthday and the
deep links that arrive with /start (receipts, referrals, scanned cards).

Every action works on the customer who wrote or pressed; callback data names a reward or a
one-time confirmation, never a customer, so forged data cannot reach another account.
"""

from __future__ import annotations

import logging
import secrets

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import formatting, keyboards, qr
from bot.chat import Incoming, Visitor, command_showing, deep_link, identify, intent_showing, say, say_html
from bot.handlers.codes import code_qr
from bot.menus import say_with_privacy_line
from bot.services import Services, services
from domain import counter, customers, ledger, receipts, referrals, rewards
from domain.conversation import Step
from nlu.client import ParseResult
from domain.rules import codes
from domain.rules.parsing import InputError, parse_day_of_year

log = logging.getLogger(__name__)

CARD_PAYLOAD_PREFIX = "c_"


# --- card and points -------------------------------------------------------------------------

async def card_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/karte: the QR code (a deep link staff can scan) and the code as text."""
    s = services(context)
    visitor = await identify(update, context)
    customer = await s.db(customers.get, visitor.customer_id)
    caption = s.texts.render("card.caption", visitor.voice, code=customer.code)
    image = qr.png(deep_link(context, CARD_PAYLOAD_PREFIX + customer.code))
    await context.bot.send_photo(visitor.chat_id, image, caption=caption, parse_mode=ParseMode.HTML)


async def show_points(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    s = services(context)
    status = await s.db(ledger.account_status, visitor.customer_id, s.config.loyalty, s.now())
    await say_html(context, visitor, points_text(s, visitor, status), points_keyboard(s, visitor))


def points_text(s: Services, visitor: Visitor, status: ledger.AccountStatus) -> str:
    voice, texts = visitor.voice, s.texts
    parts = [texts.render("loyalty.status", voice, balance=status.balance, tier=status.tier.tier.name_in(voice.language))]
    if status.tier.next_tier is not None:
        parts.append(texts.render("loyalty.progress", voice, missing=status.tier.missing_for_next,
                                  next_tier=status.tier.next_tier.name_in(voice.language)))
    else:
        parts.append(texts.render("loyalty.top_tier", voice))
    if status.expiring_points:
        parts.append(texts.render("loyalty.expiring", voice, points=status.expiring_points,
                                  date=s.local(status.expiring_on).date()))
    parts.append("")
    if status.recent:
        parts.append(texts.render("loyalty.history_title", voice))
        parts.extend(texts.render(
            "loyalty.history_line", voice,
            date=formatting.short_date(s.local(entry.created_at).date(), voice.language),
            amount=signed(entry.amount), reason=texts.plain(f"loyalty.reasons.{entry.reason}", voice),
        ) for entry in status.recent)
    else:
        parts.append(texts.render("loyalty.history_empty", voice))
    return "\n".join(parts)


points_command = command_showing(show_points, "/punkte: balance, tier, expiring points, the last entries.")
on_points_intent = intent_showing(show_points, '"wie viele Punkte hab ich?"')


def signed(points: int) -> str:
    return f"+{points}" if points > 0 else f"−{abs(points)}"


def points_keyboard(s: Services, visitor: Visitor) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(s.texts.plain("loyalty.rewards_button", visitor.voice), callback_data=keyboards.REWARDS),
        InlineKeyboardButton(s.texts.plain("loyalty.card_button", visitor.voice), callback_data=keyboards.CARD),
    ]])


# --- rewards ---------------------------------------------------------------------------------

async def show_rewards(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    s = services(context)
    catalog = s.config.loyalty.rewards
    if not catalog:
        await say(context, visitor, "rewards.empty")
        return
    balance, open_codes = await s.db(rewards.catalog_for, visitor.customer_id, s.now())
    voice, texts = visitor.voice, s.texts
    lines = [texts.render("rewards.catalog", voice, balance=balance), ""]
    buttons = []
    for item in catalog:
        name = reward_name(item, voice.language)
        if item.cost <= balance:
            lines.append(texts.render("rewards.line", voice, name=name, cost=item.cost))
            buttons.append([InlineKeyboardButton(texts.plain("rewards.button", voice, name=name, cost=item.cost),
                                                 callback_data=keyboards.REWARD_PREFIX + item.key)])
        else:
            lines.append(texts.render("rewards.line_missing", voice, name=name, cost=item.cost,
                                      missing=item.cost - balance))
    lines += ["", texts.render("rewards.pick" if buttons else "rewards.none_affordable", voice)]
    if open_codes:  # codes not used yet, in case the message with the code got lost
        lines += ["", texts.render("rewards.open_codes_title", voice)]
        lines += [texts.render("rewards.open_code_line", voice, name=r.reward_name, code=codes.grouped(r.code),
                               valid_until=s.local(r.expires_at).date()) for r in open_codes]
    await say_html(context, visitor, "\n".join(lines), InlineKeyboardMarkup(buttons) if buttons else None)


rewards_command = command_showing(show_rewards, "/praemien: the rewards, buttons for those they can afford.")
on_rewards_intent = intent_showing(show_rewards, '"was kann ich einlösen?" (rewards_catalog, redeem_reward)')


def reward_name(item, language: str) -> str:
    return item.name_en if language == "en" and item.name_en else item.name


async def reward_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reward in the catalog: ask for confirmation, remembering which reward and a nonce."""
    query = update.callback_query
    s = services(context)
    visitor = await identify(update, context)
    item = rewards.reward(s.config.loyalty, query.data.removeprefix(keyboards.REWARD_PREFIX))
    if item is None:
        await query.answer(s.texts.plain("rewards.unknown", visitor.voice))
        return
    await query.answer()
    nonce = secrets.token_hex(6)
    balance = await s.db(rewards.choose_reward, visitor.customer_id, item.key, nonce, s.now())
    name = reward_name(item, visitor.voice.language)
    if balance < item.cost:
        await say(context, visitor, "rewards.not_enough", missing=item.cost - balance, balance=balance, cost=item.cost)
        return
    keyboard = InlineKeyboardMarkup([[
        InlineKeyboardButton(s.texts.plain("rewards.confirm_yes", visitor.voice), callback_data=keyboards.REDEEM_PREFIX + nonce),
        InlineKeyboardButton(s.texts.plain("rewards.confirm_no", visitor.voice), callback_data=keyboards.REDEEM_CANCEL),
    ]])
    await say(context, visitor, "rewards.confirm", keyboard, name=name, cost=item.cost, rest=balance - item.cost)


async def redeem_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Ja, einlösen" (redeem:<nonce>) or "Abbrechen" (redeem:cancel)."""
    query = update.callback_query
    s = services(context)
    visitor = await identify(update, context)
    if query.data == keyboards.REDEEM_CANCEL:
        await s.db(rewards.cancel_redemption, visitor.customer_id, s.now())
        await query.answer()
        await _replace_buttons_with(update, s.texts.render("rewards.cancelled", visitor.voice))
        return
    nonce = query.data.removeprefix(keyboards.REDEEM_PREFIX)
    try:
        redeemed = await s.db(rewards.confirm_redemption, visitor.customer_id, nonce, s.config.loyalty, s.now())
    except rewards.RedeemError as error:
        await _answer_redeem_error(update, context, visitor, error)
        return
    await query.answer()
    await _replace_buttons_with(update, "✅")
    await send_reward_code(context, visitor, redeemed)


async def _answer_redeem_error(update, context, visitor: Visitor, error: rewards.RedeemError) -> None:
    s = services(context)
    query = update.callback_query
    if error.reason == "already_done":
        await query.answer(s.texts.plain("errors.done_button", visitor.voice))
    elif error.reason == "not_enough_points":
        await query.answer()
        await say(context, visitor, "rewards.not_enough", **error.details)
    else:
        await query.answer(s.texts.plain("rewards.unknown", visitor.voice))


async def _replace_buttons_with(update: Update, note: str) -> None:
    """Show the outcome under the question and drop its buttons (no second tap possible)."""
    message = update.callback_query.message
    if message is None or not message.text_html:
        return
    await update.callback_query.edit_message_text(f"{message.text_html}\n\n<b>{note}</b>", parse_mode=ParseMode.HTML)


async def send_reward_code(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, redeemed: rewards.Redeemed) -> None:
    s = services(context)
    redemption = redeemed.redemption
    item = rewards.reward(s.config.loyalty, redemption.reward_key)
    caption = s.texts.render(
        "rewards.redeemed", visitor.voice, code=codes.grouped(redemption.code),
        name=reward_name(item, visitor.voice.language) if item else redemption.reward_name,
        valid_until=s.local(redemption.expires_at).date(), balance=redeemed.balance,
    )
    # The QR code is a link: staff who scan it get the code with an "Einlösen" button (bot.handlers.codes).
    await context.bot.send_photo(visitor.chat_id, code_qr(context, redemption.code), caption=caption,
                                 parse_mode=ParseMode.HTML)


# --- referrals -------------------------------------------------------------------------------

async def referral_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/empfehlen: the customer's personal invitation link."""
    s = services(context)
    visitor = await identify(update, context)
    customer = await s.db(customers.get, visitor.customer_id)
    link = deep_link(context, referrals.payload_for(customer))
    bonus = s.config.loyalty.referral_bonus
    await say(context, visitor, "referral.invite" if bonus else "referral.invite_no_bonus", link=link, bonus=bonus)


# --- deep links that arrive with /start (see bot.app's DEEP_LINKS) ----------------------------

async def scan_receipt(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, token: str) -> None:
    """A receipt QR code: the purchase's points, once per receipt."""
    s = services(context)
    try:
        receipt = receipts.verify(s.settings.receipt_key(), token, s.now())
        await s.db(counter.credit_scanned_receipt, visitor.customer_id, receipt, s.config, s.now())
    except receipts.ReceiptError as error:
        log.info("receipt refused", extra={"reason": error.reason})
        key = {"no_secret": "receipt.disabled", "malformed": "receipt.invalid", "forged": "receipt.invalid"}
        await say(context, visitor, key.get(error.reason, f"receipt.{error.reason}"))
        return
    await say(context, visitor, "receipt.credited")  # the "+N Punkte" message waits in the outbox


async def arrive_by_referral(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor,
                             code_text: str) -> None:
    """A friend's invitation link."""
    s = services(context)
    code = codes.normalize(code_text, codes.CUSTOMER_CODE_LENGTH)
    outcome = "unknown_code" if code is None else await s.db(referrals.attach, visitor.customer_id, code, visitor.is_new)
    if outcome == "ok":
        friend = await s.db(customers.find_by_code, code)
        if s.config.loyalty.referral_bonus:
            await say(context, visitor, "referral.welcome", friend=friend.first_name, bonus=s.config.loyalty.referral_bonus)
    elif outcome in ("not_new", "already"):
        await say(context, visitor, "referral.not_new")
    else:
        await say(context, visitor, f"referral.{outcome}")


# --- birthday --------------------------------------------------------------------------------

async def birthday_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/geburtstag: show the stored birthday or ask for it; the next text is the answer."""
    s = services(context)
    visitor = await identify(update, context)
    customer = await s.db(customers.ask_birthday, visitor.customer_id, s.now())
    if customer.birthday_month:
        await say(context, visitor, "birthday.known", date=formatting.birthday(
            customer.birthday_day, customer.birthday_month, customer.birthday_year, visitor.voice.language))
    else:
        await say_with_privacy_line(context, visitor, "birthday.ask")


async def take_birthday(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, message: Incoming,
                        step: Step) -> bool:
    """The answer to /geburtstag, if it looks like a date (anything else is conversation)."""
    if not message.is_text or not _looks_like_a_date(services(context), message.text):
        return False
    await propose_birthday(context, visitor, message.text)
    return True


async def on_birthday_intent(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor,
                             message: Incoming, result: ParseResult) -> None:
    """"Mein Geburtstag ist am 3. Mai" """
    await propose_birthday(context, visitor, result.entity("date") or message.text)


def _looks_like_a_date(s: Services, text: str) -> bool:
    try:
        parse_day_of_year(text, s.local(s.now()).date())
    except InputError as error:
        return error.reason != "date_format"  # "31.02." is a date, just a wrong one: explain it
    return True


async def propose_birthday(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, text: str) -> None:
    """A date typed after /geburtstag or said with the set_birthday intent: confirm it first."""
    s = services(context)
    try:
        found = parse_day_of_year(text, s.local(s.now()).date())
    except InputError as error:
        await s.db(customers.ask_birthday, visitor.customer_id, s.now())
        await say(context, visitor, f"birthday.errors.{error.reason}")
        return
    nonce = secrets.token_hex(6)
    await s.db(customers.propose_birthday, visitor.customer_id, found.day, found.month, found.year, nonce, s.now())
    keyboard = InlineKeyboardMarkup([[
        InlineKeyboardButton(s.texts.plain("birthday.confirm_yes", visitor.voice),
                             callback_data=f"{keyboards.BIRTHDAY_YES}:{nonce}"),
        InlineKeyboardButton(s.texts.plain("birthday.confirm_no", visitor.voice),
                             callback_data=f"{keyboards.BIRTHDAY_NO}:{nonce}"),
    ]])
    await say(context, visitor, "birthday.confirm", keyboard,
              date=formatting.birthday(found.day, found.month, found.year, visitor.voice.language))


async def birthday_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    s = services(context)
    visitor = await identify(update, context)
    answer, nonce = query.data.rsplit(":", 1)
    agreed = answer == keyboards.BIRTHDAY_YES
    saved = await s.db(customers.settle_birthday, visitor.customer_id, agreed, nonce, s.now())
    if saved is None:
        await query.answer(s.texts.plain("errors.done_button", visitor.voice))
        return
    await query.answer()
    await _replace_buttons_with(update, s.texts.plain("birthday.confirm_yes" if agreed else "birthday.confirm_no",
                                                      visitor.voice))
    await say(context, visitor, _birthday_saved(s, visitor) if agreed else "birthday.not_saved")


def _birthday_saved(s: Services, visitor: Visitor) -> str:
    """Promise the birthday surprise only to whom it goes: it is advertising and needs consent."""
    occasion = s.config.milestones.birthday
    if not (occasion.enabled and (occasion.gift_points or occasion.coupon_offer)):
        return "birthday.saved_plain"
    return "birthday.saved" if visitor.marketing_consent else "birthday.saved_without_offers"


async def loyalty_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Menu buttons: my points, the rewards, my card (each as a new message)."""
    await update.callback_query.answer()
    command = {keyboards.POINTS: points_command, keyboards.REWARDS: rewards_command, keyboards.CARD: card_command}
    await command[update.callback_query.data](update, context)
