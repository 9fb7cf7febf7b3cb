"""Validation and helpers for ``reply_markup`` (inline keyboards, reply keyboards, ...).

Validation follows Telegram's rules and wording where it matters for bots:
``callback_data`` must be 1-64 bytes (``BUTTON_DATA_INVALID``), inline buttons need
exactly one action, ``request_contact`` buttons only work in private chats.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .errors import BUTTON_DATA_INVALID, bad_request

MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
_INLINE_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
    "copy_text", "callback_game", "pay",
)  # fmt: skip
_MARKUP_KINDS = ("inline_keyboard", "keyboard", "remove_keyboard", "force_reply")


def validate_reply_markup(markup: Any, *, private_chat: bool) -> dict[str, Any] | None:
    """Return the markup if Telegram would accept it, else raise ApiError(400)."""
    if markup is None:
        return None
    if not isinstance(markup, dict) or not any(kind in markup for kind in _MARKUP_KINDS):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _validate_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        _validate_reply_keyboard(markup["keyboard"], private_chat)
    return markup


def validate_inline_markup(markup: Any) -> dict[str, Any] | None:
    """For edits, where only inline keyboards are allowed."""
    if markup is None:
        return None
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    _validate_inline_keyboard(markup["inline_keyboard"])
    return markup


def _rows(keyboard: Any, field: str) -> list[list[Any]]:
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise bad_request(f'field "{field}" must be an Array of Arrays')
    return keyboard


def _validate_inline_keyboard(keyboard: Any) -> None:
    rows = _rows(keyboard, "inline_keyboard")
    if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            _validate_inline_button(button)


def _validate_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    actions = [key for key in _INLINE_ACTIONS if key in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad_request("can't parse inline keyboard button: only one action is allowed")
    if "callback_data" in button:
        data = button["callback_data"]
        size = len(str(data).encode("utf-8"))
        if not isinstance(data, str) or not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request(BUTTON_DATA_INVALID)
    url = str(button.get("url", "https://"))
    if not url.lower().startswith(("http://", "https://", "tg://")):
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _validate_reply_keyboard(keyboard: Any, private_chat: bool) -> None:
    for row in _rows(keyboard, "keyboard"):
        for button in row:
            if isinstance(button, str):
                continue
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request(
                    'can\'t parse keyboard button: Field "text" must be of type String'
                )
            if button.get("request_contact") and not private_chat:
                raise bad_request("phone number can be requested in private chats only")
            if button.get("request_location") and not private_chat:
                raise bad_request("location can be requested in private chats only")


def inline_buttons(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    """Rows of inline buttons (empty if the markup is not an inline keyboard)."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return markup["inline_keyboard"]


def keyboard_buttons(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    """Rows of reply-keyboard buttons, strings normalized to ``{"text": ...}``."""
    if not markup or "keyboard" not in markup:
        return []
    return [
        [{"text": b} if isinstance(b, str) else b for b in row] for row in markup["keyboard"]
    ]


def iter_buttons(markup: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
    for row in inline_buttons(markup) or keyboard_buttons(markup):
        yield from row
