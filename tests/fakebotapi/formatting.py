"""From ``(text, parse_mode, entities)`` to what a user actually sees.

Applies the parse mode (HTML is fully parsed, see :mod:`.html_parser`), trims
surrounding whitespace like Telegram does, and enforces the length limits with
Telegram's error wording.

Limitation: ``Markdown``/``MarkdownV2`` are accepted but *not* parsed; the stored plain
text is then the raw text. The bot under test uses HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import errors
from .errors import bad_request
from .html_parser import HtmlParseError, UserResolver, parse_html, utf16_len

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
_TRIMMED = " \t\r\n\v\f"


@dataclass(frozen=True)
class FormattedText:
    raw: str  # exactly what the bot sent
    text: str  # plain text after parsing and trimming (what the user sees)
    entities: list[dict[str, Any]] = field(default_factory=list)
    parse_mode: str | None = None


@dataclass(frozen=True)
class TextOptions:
    strict_ampersand: bool = True
    resolve_user: UserResolver | None = None


def format_text(
    raw: str, parse_mode: str | None, entities: Any, options: TextOptions
) -> FormattedText:
    """Apply ``parse_mode`` (or explicit ``entities``) and trim; raises ApiError(400)."""
    mode = (parse_mode or "").strip()
    kind = mode.lower()
    if kind in ("", "none"):
        text, found = raw, _validated_entities(entities)
    elif kind == "html":
        try:
            parsed = parse_html(
                raw, strict_ampersand=options.strict_ampersand, resolve_user=options.resolve_user
            )
        except HtmlParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
        text, found = parsed.text, parsed.entities
    elif kind in ("markdown", "markdownv2"):
        text, found = raw, []  # not parsed by the fake (documented limitation)
    else:
        raise bad_request("unsupported parse_mode")
    trimmed, trimmed_entities = _trim(text, found)
    return FormattedText(raw, trimmed, trimmed_entities, mode or None)


def message_text(
    raw: Any, parse_mode: str | None, entities: Any, options: TextOptions
) -> FormattedText:
    """Text of sendMessage/editMessageText, with emptiness and length checks."""
    if raw is None or raw == "":
        raise bad_request(errors.MESSAGE_TEXT_EMPTY)
    formatted = format_text(str(raw), parse_mode, entities, options)
    if not formatted.text:
        raise bad_request(errors.MESSAGE_TEXT_EMPTY)
    if len(formatted.text) > MAX_TEXT_LENGTH:
        raise bad_request(errors.MESSAGE_TOO_LONG)
    return formatted


def caption_text(
    raw: Any, parse_mode: str | None, entities: Any, options: TextOptions
) -> FormattedText | None:
    """Caption of media messages; ``None`` when there is no caption."""
    if raw is None or raw == "":
        return None
    formatted = format_text(str(raw), parse_mode, entities, options)
    if len(formatted.text) > MAX_CAPTION_LENGTH:
        raise bad_request(errors.CAPTION_TOO_LONG)
    return formatted if formatted.text else None


def _validated_entities(entities: Any) -> list[dict[str, Any]]:
    if entities is None:
        return []
    if not isinstance(entities, list) or not all(
        isinstance(e, dict)
        and isinstance(e.get("type"), str)
        and isinstance(e.get("offset"), int)
        and isinstance(e.get("length"), int)
        for e in entities
    ):
        raise bad_request("can't parse entities JSON object")
    return [dict(e) for e in entities]


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip surrounding whitespace and shift/clip entities accordingly."""
    left_stripped = text.lstrip(_TRIMMED)
    lead = utf16_len(text[: len(text) - len(left_stripped)])
    result = left_stripped.rstrip(_TRIMMED)
    total = utf16_len(result)
    shifted = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            shifted.append({**entity, "offset": start, "length": end - start})
    return result, shifted
