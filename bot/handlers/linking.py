"""Imported customers connect their Telegram account by sharing their own phone number."""

from __future__ import annotations

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import ContextTypes

from bot.chat import Incoming, Visitor, identify, say
from bot.menus import offer_contact_button
from bot.services import services
from domain import ledger, linking
from domain.conversation import Step


async def link_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/verbinden: the contact button again, for customers who skipped it."""
    await offer_contact_button(context, await identify(update, context))


async def take_skip(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, message: Incoming,
                    step: Step) -> bool:
    """The "skip" button of the phone-number keyboard (it sends its label as text): the keyboard
    goes away with one short line. Any other message is not the step's: a question is answered."""
    s = services(context)
    # Either language: the customer may have switched it since the keyboard was sent.
    skip_labels = {s.texts.plain("linking.skip_button", s.voice(language)) for language in ("de", "en")}
    if not message.is_text or message.text.strip() not in skip_labels:
        return False
    await s.db(linking.skip_phone_number, visitor.customer_id, s.now())
    await say(context, visitor, "linking.skipped", ReplyKeyboardRemove())
    return True


async def on_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared contact: accepted only when it is the sender's own number."""
    visitor = await identify(update, context)
    s = services(context)
    contact = update.effective_message.contact
    done = ReplyKeyboardRemove()
    if contact.user_id != update.effective_user.id:
        await say(context, visitor, "linking.not_own", done)
        return
    outcome, customer = await s.db(linking.link_by_phone, update.effective_user.id, contact.phone_number)
    if outcome == "linked":
        balance = await s.db(ledger.balance, customer.id)
        await say(context, visitor, "linking.linked", done, balance=balance)
    elif outcome in ("already_linked", "ambiguous"):
        await say(context, visitor, f"linking.{outcome}", done)
    else:
        await say(context, visitor, "linking.not_found", done)
