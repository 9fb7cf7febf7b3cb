"""``/export kunden|einkaeufe|punkte [Zeitraum]``: the owner gets a CSV file for the accountant
or Excel in their private chat (``domain.exports`` writes it).

Only owners (``bot.access``); in the staff group the file is not sent (everyone there would get
the shop's customer list), the owner is asked to write privately instead. The file is written
to a temporary file on disk as the rows come from the database; one too large for Telegram is
sent as a ZIP, and one still too large is refused with the command line that has no limit.
"""

from __future__ import annotations

import io
import logging
import tempfile
import zipfile
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from telegram import InputFile, Update
from telegram.ext import ContextTypes

from bot.chat import send_html
from bot.owner import Owner, arguments, owner_of, say, say_together
from bot.services import services
from bot.texts import Texts, Voice
from domain import exports, ledger
from domain.rules import nps

log = logging.getLogger(__name__)

# Telegram takes files up to 50 MB from bots.
MAX_DOCUMENT_BYTES = 45 * 1024 * 1024
_SOURCES = ("counter", "receipt", "import")


def cell_words(texts: Texts, voice: Voice) -> dict[str, str]:
    """The words in the files' cells (yes/no, a purchase's source, a points entry's reason), in
    the owner's language (also used by the command line, see bot.cli_export)."""
    words = {key: texts.plain(f"export.words.{key}", voice) for key in ("yes", "no")}
    words.update({f"source:{key}": texts.plain(f"export.words.{key}", voice) for key in _SOURCES})
    words.update({f"reason:{key}": texts.plain(f"loyalty.reasons.{key}", voice) for key in ledger.REASONS})
    return words


def _write(session, path: str, request: exports.Request, zone: ZoneInfo, words: Mapping[str, str],
           team_user_ids: frozenset[int]) -> int:
    with open(path, "w", encoding="utf-8", newline="") as out:
        return exports.export(session, out, request, zone, words, team_user_ids)


async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/export kunden|einkaeufe|punkte [Zeitraum]: the CSV file, in the owner's private chat only."""
    s = services(context)
    if update.effective_chat.type != "private":
        log.info("export refused outside a private chat")
        await send_html(context.bot, update.effective_chat.id, s.texts.render("export.private_only", s.staff_voice))
        return
    owner = await owner_of(update, context)
    zone = ZoneInfo(s.config.shop.timezone)
    typed = " ".join(arguments(update).split())
    now = s.now()
    try:
        request = exports.parse_request(typed, now, zone)
    except (exports.ExportError, nps.PeriodError) as error:
        log.info("export refused", extra={"reason": error.reason})
        value = error.value if isinstance(error, exports.ExportError) else typed.partition(" ")[2][:40]
        parts = [("export.usage", {"days": exports.DEFAULT_DAYS})]
        if error.reason != "kind_missing" or typed:
            parts.insert(0, (f"export.errors.{error.reason}", {"value": value, "max_days": nps.MAX_DAYS}))
        await say_together(context, owner, *parts)
        return
    with tempfile.TemporaryDirectory(prefix="stammgast-export-") as directory:
        path = f"{directory}/export.csv"
        rows = await s.read(_write, path, request, zone, cell_words(s.texts, owner.voice),
                            frozenset(s.config.staff.admin_ids))
        name = exports.file_name(request, now, zone)
        with open(path, "rb") as file:
            data = file.read(MAX_DOCUMENT_BYTES + 1)
        compressed = len(data) > MAX_DOCUMENT_BYTES
        if compressed:
            data = _zipped(path, name)
            name = name.removesuffix(".csv") + ".zip"
    log.info("export", extra={"kind": request.kind, "rows": rows, "bytes": len(data), "zipped": compressed})
    if len(data) > MAX_DOCUMENT_BYTES:
        await say(context, owner, "export.too_large", megabytes=len(data) // (1024 * 1024), kind=request.kind)
        return
    await context.bot.send_document(owner.chat_id, document=InputFile(data, filename=name),
                                    caption=_caption(s.texts, owner, request, rows, now, zone, compressed))


def _zipped(path: str, name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, arcname=name)
    return buffer.getvalue()


def _caption(texts: Texts, owner: Owner, request: exports.Request, rows: int, now, zone: ZoneInfo,
             compressed: bool) -> str:
    kind = texts.plain(f"export.kind.{request.kind}", owner.voice)
    if request.period is None:
        caption = texts.plain("export.caption_all", owner.voice, kind=kind, rows=rows, day=now.astimezone(zone).date())
    else:
        first, last = request.period.days(zone)
        caption = texts.plain("export.caption_period", owner.voice, kind=kind, rows=rows, first=first, last=last)
    return caption + ("\n" + texts.plain("export.compressed", owner.voice) if compressed else "")
