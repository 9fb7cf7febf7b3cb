"""Customers' rights to their data: /meinedaten (/mydata) and the export_data intent send the
customer two documents with everything stored about them (a readable text in their language,
and JSON); /loeschen (/delete) and the delete_data intent ask, say what is lost, and erase on
the confirm button. Owners execute requests that reached the shop by mail or at the counter:
/kunde_export CODE (the documents come to the owner's private chat) and /kunde_loeschen CODE
(with a confirm button for the owner who asked).

The buttons carry a one-time nonce stored with the conversation step, never a customer: a
forged, old or second press does nothing. Logs name the customer id and who executed a
request, never a name.
"""

from __future__ import annotations

import gzip
import html
import json
import logging
import re
import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import ContextTypes

from bot import formatting
from bot.chat import Visitor, command_showing, intent_showing, profile_of, say, say_html, send_html
from bot.owner import arguments, close_preview, owner_of
from bot.owner import say as owner_say
from bot.services import Services, services
from bot.texts import Voice
from domain import customers, data_rights, outbox
from domain.rules import codes

log = logging.getLogger(__name__)

ERASE_PREFIX, ERASE_CANCEL = "erase:", "erase:cancel"
ERASE_PATTERN = r"^erase:([0-9a-f]{12}|cancel)$"
OWNER_PREFIX, OWNER_CANCEL = "erase_for:", "erase_for:cancel"
OWNER_PATTERN = r"^erase_for:([0-9a-f]{12}|cancel)$"
# Telegram takes files up to 50 MB from bots; a larger export goes out compressed.
MAX_DOCUMENT_BYTES = 45 * 1024 * 1024


# --- the export --------------------------------------------------------------------------------

async def send_my_data(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    s = services(context)
    export = await s.db(data_rights.export_my_data, visitor.customer_id, s.now())
    log.info("data export", extra={"customer_id": export.customer_id, "executed_by": "customer"})
    await say(context, visitor, "rights.export_intro")
    await send_documents(context, visitor.chat_id, export, visitor.voice)


async def send_documents(context: ContextTypes.DEFAULT_TYPE, chat_id: int, export: data_rights.Export,
                         voice: Voice) -> None:
    s = services(context)
    stem = f"{s.texts.plain('rights.file_name', voice)}-{s.local(export.exported_at):%Y-%m-%d}"
    readable = readable_document(s, export, voice).encode("utf-8")
    machine = json.dumps(export.as_json(), ensure_ascii=False, indent=2).encode("utf-8")
    for data, name, caption in ((readable, f"{stem}.txt", "rights.caption_text"),
                                (machine, f"{stem}.json", "rights.caption_json")):
        if len(data) > MAX_DOCUMENT_BYTES:
            data, name = gzip.compress(data), name + ".gz"
        await context.bot.send_document(chat_id, document=InputFile(data, filename=name),
                                        caption=s.texts.plain(caption, voice))


def readable_document(s: Services, export: data_rights.Export, voice: Voice) -> str:
    """The export as a text for people: a section per table, a line per row, times in the
    shop's time zone; a consent answer with the exact wording the customer saw."""
    texts, language = s.texts, voice.language
    title = texts.plain("rights.doc.title", voice)
    lines = [title, "=" * len(title), texts.plain("rights.doc.as_of", voice, date=_moment(s, export.exported_at, language)),
             "", texts.plain("rights.doc.intro", voice)]
    wordings = {row["version"]: row["text"] for row in export.tables.get("consent_wording", [])}
    for table, rows in export.tables.items():
        heading = _label(s, "tables", table, voice)
        lines += ["", heading, "-" * len(heading)]
        if not rows:
            lines.append(texts.plain("rights.doc.nothing", voice))
        for row in rows:
            lines.append("• " + "; ".join(f"{_label(s, 'fields', name, voice)}: {_value(s, name, value, voice)}"
                                          for name, value in row.items()
                                          if value not in (None, "", [], {}) and name != "customer_id"))
            if table == "consent_record" and row.get("wording_version") in wordings:
                lines.append(f"  {texts.plain('rights.doc.wording', voice)}: „{wordings[row['wording_version']]}“")
            if table == "outbox_message" and row.get("payload"):
                lines.append(f"  {texts.plain('rights.doc.message', voice)}: {_message_text(s, row['payload'], voice)}")
        if export.truncated.get(table):
            lines.append(texts.plain("rights.doc.more", voice, count=export.truncated[table]))
    return "\n".join(lines) + "\n"


def _message_text(s: Services, payload: dict, voice: Voice) -> str:
    """A queued message as its recipient read it (without the markup)."""
    spec = outbox.MessageSpec.from_payload(payload)
    try:
        text = spec.text if spec.template is None else s.texts.render(spec.template, voice, **spec.params)
    except KeyError:  # a text that no longer exists: the JSON has the message's data
        return "–"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", text or "")).split()) or "–"


def _label(s: Services, kind: str, name: str, voice: Voice) -> str:
    """A table's or a column's name for people; one added later shows under its own name."""
    try:
        return s.texts.plain(f"rights.doc.{kind}.{name}", voice)
    except KeyError:
        return name


def _moment(s: Services, moment: datetime, language: str) -> str:
    local = s.local(moment)
    return f"{formatting.short_date(local.date(), language)} {formatting.time_of_day(local, language)}"


def _value(s: Services, name: str, value: Any, voice: Voice) -> str:
    if isinstance(value, bool):
        return s.texts.plain("rights.doc.answer_yes" if value else "rights.doc.answer_no", voice)
    if isinstance(value, int) and name.endswith("_cents"):
        return formatting.money(Decimal(value) / 100, voice.language)
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return _moment(s, datetime.fromisoformat(value), voice.language)
        except ValueError:
            return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


my_data_command = command_showing(send_my_data, "/meinedaten, /mydata: everything stored about them, as documents.")
on_export_intent = intent_showing(send_my_data, '"Welche Daten habt ihr über mich?"')


# --- erasure by the customer ---------------------------------------------------------------------

async def ask_to_erase(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor) -> None:
    s = services(context)
    nonce = secrets.token_hex(6)
    lost = await s.db(data_rights.ask_to_erase_my_data, visitor.customer_id, nonce, s.now())
    text = lost_text(s, visitor.voice, lost, s.texts.render("rights.erase_question", visitor.voice))
    await say_html(context, visitor, text, confirm_keyboard(s, visitor.voice, ERASE_PREFIX, nonce, ERASE_CANCEL))


def lost_text(s: Services, voice: Voice, lost: data_rights.WhatIsLost, question: str) -> str:
    lines = [question, s.texts.render("rights.lost_points", voice, points=lost.balance)]
    for key, count in (("rights.lost_rewards", lost.open_rewards), ("rights.lost_coupons", lost.open_coupons),
                       ("rights.lost_tickets", lost.open_tickets)):
        if count:
            lines.append(s.texts.render(key, voice, count=count))
    return "\n".join(lines)


def confirm_keyboard(s: Services, voice: Voice, prefix: str, nonce: str, cancel: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(s.texts.plain("rights.erase_yes", voice), callback_data=prefix + nonce),
        InlineKeyboardButton(s.texts.plain("rights.erase_no", voice), callback_data=cancel),
    ]])


async def erase_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Ja, alles löschen" (erase:<nonce>) or "Nein, behalten" (erase:cancel). The presser is
    looked up, not registered: a press after the erasure makes no new customer."""
    s = services(context)
    query = update.callback_query
    profile = profile_of(update)
    if query.data == ERASE_CANCEL:
        language, cancelled = await s.db(data_rights.cancel_my_erasure, profile.user_id, profile.language_code,
                                         s.config.shop.language, s.now())
        if not cancelled:
            await query.answer(s.texts.plain("errors.done_button", s.voice(language)))
            return
        await query.answer()
        await close_preview(update, s.texts.render("rights.erase_cancelled", s.voice(language)))
        return
    try:
        erased = await s.db(data_rights.confirm_my_erasure, profile.user_id, profile.language_code,
                            s.config.shop.language, query.data.removeprefix(ERASE_PREFIX), s.now())
    except data_rights.RightsRefusal:
        voice = s.voice(customers.language_of_code(profile.language_code, s.config.shop.language))
        await query.answer(s.texts.plain("errors.done_button", voice))
        return
    log.info("data erased", extra={"customer_id": erased.customer_id, "executed_by": "customer"})
    voice = s.voice(erased.language)
    await query.answer()
    await close_preview(update, "✅")
    await send_html(context.bot, profile.chat_id, s.texts.render("rights.erased", voice))


delete_command = command_showing(ask_to_erase, "/loeschen, /delete: what would be lost, and the button.")
on_delete_intent = intent_showing(ask_to_erase, '"Löscht bitte alle meine Daten"')


# --- requests by mail or at the counter, executed by an owner --------------------------------------

async def _owner_and_code(update: Update, context: ContextTypes.DEFAULT_TYPE, usage: str):
    """The owner and the customer code they typed after the command ("" after telling them how)."""
    owner = await owner_of(update, context)
    typed = arguments(update).strip()
    if not typed:
        await owner_say(context, owner, usage)
    return owner, typed


async def customer_export_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/kunde_export CODE: the documents go to the owner's private chat, never to a group."""
    s = services(context)
    owner, typed = await _owner_and_code(update, context, "rights.owner_usage_export")
    if not typed:
        return
    user_id = update.effective_user.id
    try:
        export = await s.db(data_rights.export_for_owner, typed, user_id, s.now())
    except data_rights.RightsRefusal as error:
        await owner_say(context, owner, f"rights.errors.{error.reason}", code=error.value)
        return
    log.info("data export", extra={"customer_id": export.customer_id, "executed_by": user_id})
    code = _code_of(export)
    # In the customer's language: the owner passes the documents on to them.
    await send_html(context.bot, user_id, s.texts.render("rights.owner_export_sent", owner.voice, code=code))
    await send_documents(context, user_id, export, s.voice(export.language or s.config.shop.language))
    if owner.chat_id != user_id:
        await owner_say(context, owner, "rights.owner_export_private", code=code)


def _code_of(export: data_rights.Export) -> str:
    (customer,) = export.tables[data_rights.CUSTOMER_TABLE]
    return codes.grouped(customer["code"]) if customer.get("code") else str(export.customer_id)


async def customer_erase_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/kunde_loeschen CODE: asks the owner who typed it to confirm."""
    s = services(context)
    owner, typed = await _owner_and_code(update, context, "rights.owner_usage_erase")
    if not typed:
        return
    nonce = secrets.token_hex(6)
    try:
        lost = await s.db(data_rights.ask_to_erase_for_owner, owner.customer_id, typed, nonce, s.now())
    except data_rights.RightsRefusal as error:
        await owner_say(context, owner, f"rights.errors.{error.reason}", code=error.value)
        return
    code = codes.normalize(typed, codes.CUSTOMER_CODE_LENGTH)
    question = s.texts.render("rights.owner_erase_question", owner.voice, code=code)
    await send_html(context.bot, owner.chat_id, lost_text(s, owner.voice, lost, question),
                    confirm_keyboard(s, owner.voice, OWNER_PREFIX, nonce, OWNER_CANCEL))


async def owner_erase_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The owner's confirm (erase_for:<nonce>): only the owner who asked, only once."""
    s = services(context)
    query = update.callback_query
    owner = await owner_of(update, context)
    if query.data == OWNER_CANCEL:
        if not await s.db(data_rights.cancel_erasure, owner.customer_id, s.now()):
            await query.answer(s.texts.plain("errors.done_button", owner.voice))
            return
        await query.answer()
        await close_preview(update, s.texts.render("rights.owner_cancelled", owner.voice))
        return
    user_id = update.effective_user.id
    try:
        erased = await s.db(data_rights.confirm_erasure, owner.customer_id, query.data.removeprefix(OWNER_PREFIX),
                            s.now(), executed_by=user_id, shop_language=s.config.shop.language)
    except data_rights.RightsRefusal:
        await query.answer(s.texts.plain("errors.done_button", owner.voice))
        return
    log.info("data erased", extra={"customer_id": erased.customer_id, "executed_by": user_id})
    await query.answer()
    await close_preview(update, s.texts.render("rights.owner_erased", owner.voice,
                                                       code=codes.grouped(erased.code) if erased.code else erased.customer_id))
