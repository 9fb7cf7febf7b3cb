"""The shop's owners send a CSV file to the bot: a dry run first, then the import after they
press "Importieren". Anyone else's file changes nothing.

The waiting import (file id, kind, the report message) is a conversation step in the database,
so a restart between dry run and confirmation loses nothing, and a double tap imports once.
"""

from __future__ import annotations

import html
import logging
import re
from zoneinfo import ZoneInfo

from telegram import Document, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.chat import Visitor, edit_unless_unchanged, identify, say, say_html
from bot.services import Services, services
from bot.staff import is_admin
from bot.texts import Texts, Voice
from domain import customers, imports
from domain.imports import FileError, ImportReport, PendingImport, RowProblem

log = logging.getLogger(__name__)

IMPORT_YES, IMPORT_NO = "import:yes", "import:no"
PROBLEMS_SHOWN = 20
IGNORED_SHOWN = 10
CSV_SUFFIXES = (".csv", ".txt")
# What phones and Excel on Windows call a CSV file.
CSV_TYPES = {"text/csv", "text/plain", "text/comma-separated-values", "text/x-csv", "application/csv",
             "application/x-csv", "application/vnd.ms-excel"}


# --- texts (also used by the command line, see bot.cli_import) --------------------------------------


def kind_name(texts: Texts, voice: Voice, kind: str) -> str:
    return texts.plain(f"import.kind.{kind}", voice)


def report_text(texts: Texts, voice: Voice, report: ImportReport, limit: int | None = PROBLEMS_SHOWN) -> str:
    """The report as Telegram HTML: what the file holds, what is (or would be) new, bad rows."""

    def line(key: str, **params) -> str:
        return texts.render(f"import.{key}", voice, **params)

    title = "dry_run_title" if report.dry_run else "done_title" if report.ok else "not_imported_title"
    lines = [line(title, kind=kind_name(texts, voice, report.kind)), line("rows", rows=report.rows)]
    if report.kind == imports.CUSTOMERS:
        lines += [line("customers_new", count=report.created), line("customers_known", count=report.unchanged)]
        if report.points:
            lines.append(line("opening_points", points=report.points))
    else:
        lines += [line("purchases_new", count=report.booked), line("purchases_known", count=report.already_imported)]
        if report.points:
            lines.append(line("purchase_points", points=report.points))
    if report.ignored_columns:
        names = [imports.short(name, 30) for name in report.ignored_columns[:IGNORED_SHOWN]]
        more = ["…"] if len(report.ignored_columns) > IGNORED_SHOWN else []
        lines.append(line("ignored_columns", columns=", ".join(names + more)))
    if report.problems:
        shown = report.problems if limit is None else report.problems[:limit]
        bad_rows = len({problem.line for problem in report.problems})
        lines += ["", "❌ " + line("problems_title", count=bad_rows)]
        lines += [problem_text(texts, voice, problem) for problem in shown]
        if len(report.problems) > len(shown):
            lines.append(line("more_problems", count=len(report.problems) - len(shown)))
    return "\n".join(lines)


def problem_text(texts: Texts, voice: Voice, problem: RowProblem) -> str:
    reason = texts.plain(f"import.reason.{problem.reason}", voice)
    line = str(problem.line)  # no thousands separator in line numbers
    if not problem.column:
        return texts.render("import.problem_row", voice, line=line, reason=reason)
    if not problem.value:
        return texts.render("import.problem_no_value", voice, line=line, column=problem.column, reason=reason)
    return texts.render("import.problem", voice, line=line, column=problem.column, reason=reason, value=problem.value)


def file_error_text(texts: Texts, voice: Voice, error: FileError) -> str:
    params = dict(error.params)
    if "columns" in params:
        params["columns"] = ", ".join(f"„{name}“" if voice.language == "de" else f"“{name}”"
                                      for name in params["columns"])
    for key in ("expected", "found"):
        if error.reason == "wrong_kind" and key in params:
            params[key] = kind_name(texts, voice, params[key])
    return texts.render(f"import.file_error.{error.reason}", voice, **params)


def plain(html_text: str) -> str:
    """Telegram HTML as terminal text."""
    return html.unescape(re.sub(r"</?[a-z]+>", "", html_text))


def confirm_keyboard(texts: Texts, voice: Voice) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.plain("import.yes_button", voice), callback_data=IMPORT_YES),
        InlineKeyboardButton(texts.plain("import.no_button", voice), callback_data=IMPORT_NO),
    ]])


# --- handlers --------------------------------------------------------------------------------


def _looks_like_csv(document: Document) -> bool:
    name = (document.file_name or "").lower()
    return name.endswith(CSV_SUFFIXES) or (document.mime_type or "").lower() in CSV_TYPES


async def _download(context: ContextTypes.DEFAULT_TYPE, file_id: str) -> bytes:
    telegram_file = await context.bot.get_file(file_id)
    return bytes(await telegram_file.download_as_bytearray())


def _timezone(s: Services) -> ZoneInfo:
    return ZoneInfo(s.config.shop.timezone)


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file in the private chat: an owner's CSV gets a dry run and the question to import."""
    s = services(context)
    visitor = await identify(update, context)
    document = update.effective_message.document
    if not is_admin(context, update.effective_user.id):
        await say(context, visitor, "import.not_admin" if _looks_like_csv(document) else "understanding.not_text")
        return
    if not _looks_like_csv(document):
        await say(context, visitor, "import.not_csv")
        return
    if (document.file_size or 0) > imports.MAX_BYTES:
        await say(context, visitor, "import.file_error.too_large", max_mb=imports.MAX_MEGABYTES)
        return
    data = await _fetch(context, visitor, document.file_id)
    if data is None:
        return
    try:
        report = await s.db(imports.run_import, data, s.config.loyalty, _timezone(s), s.now(), dry_run=True)
    except FileError as error:
        log.info("import file refused", extra={"reason": error.reason})
        await say_html(context, visitor, file_error_text(s.texts, visitor.voice, error))
        return
    log.info("import dry run", extra={"kind": report.kind, "rows": report.rows, "problems": len(report.problems)})
    text = report_text(s.texts, visitor.voice, report)
    if not report.ok:
        await say_html(context, visitor, text)
    elif not report.has_news:
        await say_html(context, visitor, text + "\n\n" + s.texts.render("import.nothing_new", visitor.voice))
    else:
        message = await say_html(context, visitor, text + "\n\n" + s.texts.render("import.confirm", visitor.voice),
                                 confirm_keyboard(s.texts, visitor.voice))
        pending = PendingImport(document.file_id, report.kind, imports.digest_of(data), message.message_id)
        await s.db(imports.remember_pending, visitor.customer_id, pending, s.now())


async def _fetch(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, file_id: str) -> bytes | None:
    try:
        return await _download(context, file_id)
    except TelegramError as error:
        log.warning("import file download failed", extra={"error": str(error)})
        await say(context, visitor, "import.download_failed")
        return None


async def confirm_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Importieren / Abbrechen under a dry run report; only for the owners, and only once."""
    s = services(context)
    query = update.callback_query
    if not is_admin(context, query.from_user.id):
        # Forged or forwarded: no registration, no change; just say who may import.
        language = customers.language_of_code(query.from_user.language_code, s.config.shop.language)
        await query.answer(s.texts.plain("import.not_admin", s.voice(language)))
        return
    visitor = await identify(update, context)
    message_id = query.message.message_id if query.message else None
    if query.data == IMPORT_NO:
        if await s.db(imports.claim_pending, visitor.customer_id, message_id, s.now()) is None:
            await query.answer(s.texts.plain("import.already_done", visitor.voice))
            return
        await query.answer()
        await _edit(update, s.texts.render("import.cancelled", visitor.voice))
        return
    pending = await s.db(imports.pending_import, visitor.customer_id, message_id, s.now())
    if pending is None:
        await query.answer(s.texts.plain("import.already_done", visitor.voice))
        return
    await query.answer(s.texts.plain("import.working", visitor.voice))
    data = await _fetch(context, visitor, pending.file_id)
    if data is None:
        return  # the import still waits: pressing again retries
    try:
        report = await s.db(imports.confirm_pending, visitor.customer_id, message_id, data,
                            s.config.loyalty, _timezone(s), s.now())
    except FileError as error:
        await _edit(update, file_error_text(s.texts, visitor.voice, error))
        return
    if report is None:  # a second tap got here first
        return
    log.info("import done" if report.ok else "import refused",
             extra={"kind": report.kind, "rows": report.rows, "customers": report.created,
                    "purchases": report.booked, "points": report.points, "problems": len(report.problems)})
    await _edit(update, report_text(s.texts, visitor.voice, report))


async def _edit(update: Update, text: str) -> None:
    await edit_unless_unchanged(update.callback_query.edit_message_text(text, parse_mode=ParseMode.HTML,
                                                                        reply_markup=None))
