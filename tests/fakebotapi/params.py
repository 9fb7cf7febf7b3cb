"""Decoding Bot API request parameters the way Telegram accepts them.

Telegram accepts parameters in the query string, as ``application/x-www-form-urlencoded``,
as ``multipart/form-data`` (uploads) and as an ``application/json`` body. PTB uses form
encoding with nested values (``reply_markup``, ``entities``, ``commands``, ``scope`` ...)
JSON-encoded as strings, numbers as decimal strings and booleans as ``true``/``false``.

:func:`read_request` merges all sources into one dict, then :func:`normalize` turns
the known fields into Python values (ints, bools, decoded JSON), so method handlers and
recorded calls see the same shape no matter how the client encoded the request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from .errors import bad_request

# Fields that carry JSON-serialized objects when sent as form data.
JSON_FIELDS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "commands", "scope",
        "reply_parameters", "link_preview_options", "allowed_updates", "menu_button",
        "media", "results", "rights",
    }
)  # fmt: skip
INT_FIELDS = frozenset(
    {
        "message_id", "offset", "limit", "reply_to_message_id", "user_id",
        "cache_time", "max_connections", "message_thread_id", "until_date",
        "from_chat_id", "duration", "width", "height", "length",
    }
)  # fmt: skip
BOOL_FIELDS = frozenset(
    {
        "disable_notification", "protect_content", "show_alert", "drop_pending_updates",
        "allow_sending_without_reply", "disable_web_page_preview", "has_spoiler",
        "disable_content_type_detection", "show_caption_above_media", "revoke_messages",
        "allow_paid_broadcast", "for_channels",
    }
)  # fmt: skip
_JSON_ERROR_WORDING = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "entities": "can't parse entities JSON object",
    "caption_entities": "can't parse entities JSON object",
    "reply_parameters": "can't parse reply parameters JSON object",
    "allowed_updates": "can't parse allowed updates JSON object",
}


@dataclass(frozen=True)
class UploadedFile:
    """One multipart file part."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


async def read_request(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Collect parameters from query string and body; return ``(params, files)``."""
    raw: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    content_type = request.content_type
    if content_type == "application/json":
        raw.update(await _read_json_body(request))
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, FileField):
                files[name] = UploadedFile(
                    name, value.filename, value.content_type, value.file.read()
                )
            else:
                raw[name] = value
    return normalize(raw), files


async def _read_json_body(request: web.Request) -> dict[str, Any]:
    body = await request.read()
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError:
        raise bad_request("can't parse JSON object") from None
    if not isinstance(data, dict):
        raise bad_request("JSON object expected")
    return data


def normalize(raw: dict[str, Any]) -> dict[str, Any]:
    """Convert known fields to Python types; unknown fields stay as they came."""
    params: dict[str, Any] = {}
    for name, value in raw.items():
        if name in JSON_FIELDS:
            params[name] = _json_value(name, value)
        elif name in INT_FIELDS:
            params[name] = _int_value(name, value)
        elif name in BOOL_FIELDS:
            params[name] = _bool_value(value)
        elif name == "chat_id":
            params[name] = _chat_id_value(value)
        else:
            params[name] = value
    return params


def _json_value(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        wording = _JSON_ERROR_WORDING.get(name, f"can't parse {name} JSON object")
        raise bad_request(wording) from None


def _int_value(name: str, value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise bad_request(f"invalid {name} specified") from None


def _bool_value(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    return str(value).strip().lower() in ("true", "1", "yes")


def _chat_id_value(value: Any) -> int | str:
    """Numeric chat ids become ints; ``@username`` stays a string."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        return text
