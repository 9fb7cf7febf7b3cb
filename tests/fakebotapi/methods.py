"""Bot API methods implemented by the fake.

Each public method of :class:`BotApiMethods` named in snake_case implements the Bot API
method of the same name in camelCase (``send_message`` -> ``sendMessage``). Handlers get
the normalized parameters (see :mod:`.params`) and uploaded files, return the JSON
``result`` and raise :class:`~.errors.ApiError` for failures. Method names are matched
case-insensitively, like Telegram does.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any

from . import errors
from .errors import ApiError, bad_request, conflict, forbidden, method_not_found
from .formatting import TextOptions, caption_text, message_text
from .markup import validate_inline_markup, validate_reply_markup
from .models import KINDS_WITHOUT_CAPTION, ChatRecord, MessageContent, StoredFile, StoredMessage, chat_member_json
from .params import UploadedFile
from .state import BotState

Params = dict[str, Any]
Files = dict[str, UploadedFile]

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
SCOPE_TYPES = frozenset(
    {
        "default", "all_private_chats", "all_group_chats", "all_chat_administrators",
        "chat", "chat_administrators", "chat_member",
    }
)  # fmt: skip
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
_BOT_TEXT_LIMITS = {"name": 64, "description": 512, "short_description": 120}
# What the sender may tell about a new file (the Bot API parameter -> StoredFile field); a video
# note's "length" is its diameter.
_FILE_DETAILS = {"width": "width", "height": "height", "length": "width", "duration": "duration",
                 "performer": "performer", "title": "title"}


def _type_name(kind: str) -> str:
    """"video_note" -> "VideoNote", as Telegram names file types in its errors."""
    return "".join(part.capitalize() for part in kind.split("_"))


def _snake_to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


class BotApiMethods:
    """The method table plus the behaviour of every supported method."""

    def __init__(self, state: BotState, text_options: TextOptions) -> None:
        self.state = state
        self.text_options = text_options
        self.closing = False
        self._poll_generation = 0
        self._table = {
            _snake_to_camel(name).lower(): (_snake_to_camel(name), getattr(self, name))
            for name in _API_METHODS
        }

    # -- dispatch --------------------------------------------------------------------------
    def canonical_name(self, method: str) -> str | None:
        entry = self._table.get(method.lower())
        return entry[0] if entry else None

    async def call(self, method: str, params: Params, files: Files) -> Any:
        entry = self._table.get(method.lower())
        if entry is None:
            raise method_not_found()
        result = entry[1](params, files)
        return await result if inspect.isawaitable(result) else result

    def shutdown(self) -> None:
        """Release long-polling requests (they answer with an empty list)."""
        self.closing = True
        self.state.changed()

    # -- shared checks -------------------------------------------------------------------------
    def _existing_chat(self, params: Params) -> ChatRecord:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise bad_request("chat_id is empty")
        chat = self.state.find_chat(chat_id)
        if chat is None or chat.deleted:
            raise bad_request(errors.CHAT_NOT_FOUND)
        if chat.migrated_to is not None:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           {"migrate_to_chat_id": chat.migrated_to})
        return chat

    @staticmethod
    def _ensure_reachable(chat: ChatRecord) -> None:
        """403s for chats the bot cannot write to any more."""
        if chat.is_private:
            if chat.deactivated:
                raise forbidden(errors.USER_DEACTIVATED)
            if chat.blocked:
                raise forbidden(errors.BOT_BLOCKED)
            if not chat.started:
                raise forbidden(errors.CANT_INITIATE)
            return
        kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
        if chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {kind}")
        if chat.bot_status == "left":
            raise forbidden(f"bot is not a member of the {kind}")

    def _chat_for_send(self, params: Params) -> ChatRecord:
        chat = self._existing_chat(params)
        self._ensure_reachable(chat)
        return chat

    @staticmethod
    def _reply_target(chat: ChatRecord, params: Params) -> StoredMessage | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id"):
            message_id = params["reply_to_message_id"]
            allow_missing = bool(params.get("allow_sending_without_reply"))
        else:
            return None
        try:
            target = chat.get(int(message_id))
        except (TypeError, ValueError):
            target = None
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return target

    def _send(self, chat: ChatRecord, method: str, params: Params, content: MessageContent) -> Any:
        reply_to = self._reply_target(chat, params)
        message = self.state.add_message(
            chat,
            self.state.bot,
            content,
            reply_to=reply_to,
            send_method=method,
            send_params=params,
        )
        return message.to_json()

    def _message_to_edit(self, params: Params) -> StoredMessage:
        if params.get("inline_message_id"):
            raise bad_request(errors.MESSAGE_TO_EDIT_NOT_FOUND)  # inline mode is not simulated
        chat = self._existing_chat(params)
        self._ensure_reachable(chat)
        if params.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        message = chat.get(params["message_id"])
        if message is None or message.deleted:
            raise bad_request(errors.MESSAGE_TO_EDIT_NOT_FOUND)
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def _apply_edit(self, message: StoredMessage, method: str, content: MessageContent) -> Any:
        if message.content.looks_same_as(content):
            raise bad_request(errors.MESSAGE_NOT_MODIFIED)
        self.state.record_edit(message, method, content)
        return message.to_json()

    @staticmethod
    def _edited_markup(message: StoredMessage, params: Params) -> dict[str, Any] | None:
        """Edits replace (or, if omitted, remove) the inline keyboard; reply keyboards stay."""
        markup = validate_inline_markup(params.get("reply_markup"))
        if markup is None and message.content.inline_markup is None:
            return message.content.reply_markup
        return markup

    def _input_file(self, params: Params, files: Files, kind: str) -> StoredFile:
        value = params.get(kind)
        upload = files.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://") :])
            if upload is None:
                raise bad_request(f'can\'t find attached file "{value[len("attach://"):]}"')
        if upload is not None:
            return self._store_upload(upload, kind, params)
        if not value:
            raise bad_request(f"there is no {kind} in the request")
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            name = PurePosixPath(value.split("?", 1)[0]).name or None
            return self.state.store_file(kind, None, filename=name, url=value)
        existing = self.state.files.get(str(value))
        if existing is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if existing.kind != kind:
            raise bad_request(
                f"can't use file of type {_type_name(existing.kind)} as {_type_name(kind)}"
            )
        return existing

    def _store_upload(self, upload: UploadedFile, kind: str, params: Params) -> StoredFile:
        size = len(upload.data)
        if size == 0:
            raise bad_request("file must be non-empty")
        if size > MAX_UPLOAD_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        if kind == "photo" and size > MAX_PHOTO_BYTES:
            raise bad_request("PHOTO_SAVE_FILE_INVALID")
        details = {
            field: params[name]
            for name, field in _FILE_DETAILS.items()
            if params.get(name) not in (None, "")
        }
        return self.state.store_file(
            kind, upload.data, upload.filename, upload.content_type, **details
        )

    # -- getting updates -----------------------------------------------------------------------
    def get_me(self, params: Params, files: Files) -> Any:
        return {
            **self.state.bot.to_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.state.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def get_updates(self, params: Params, files: Files) -> Any:
        state = self.state
        if state.webhook:
            raise conflict(
                "can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first"
            )
        limit = min(max(params.get("limit") or 100, 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if "allowed_updates" in params:
            state.allowed_updates = list(params["allowed_updates"] or []) or None
        # A newer getUpdates terminates an older one still waiting (two bot instances).
        self._poll_generation += 1
        generation = self._poll_generation
        state.changed()
        if params.get("offset"):
            state.confirm_updates(params["offset"])

        def outcome() -> Any:
            if generation != self._poll_generation:
                return "conflict"
            if self.closing:
                return "closing"
            return state.deliverable_updates(limit) or None

        try:
            result = await state.notifier.wait_for(outcome, timeout)
        except TimeoutError:
            return []
        if result == "conflict":
            raise conflict(
                "terminated by other getUpdates request; "
                "make sure that only one bot instance is running"
            )
        return [] if result == "closing" else result

    def set_webhook(self, params: Params, files: Files) -> Any:
        url = str(params.get("url") or "")
        if not url:
            return self.delete_webhook(params, files)
        if not url.lower().startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.state.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
            "max_connections": params.get("max_connections"),
        }
        if params.get("drop_pending_updates"):
            self.state.drop_pending_updates()
        self.state.changed()
        return True

    def delete_webhook(self, params: Params, files: Files) -> Any:
        self.state.webhook = None
        if params.get("drop_pending_updates"):
            self.state.drop_pending_updates()
        self.state.changed()
        return True

    def get_webhook_info(self, params: Params, files: Files) -> Any:
        webhook = self.state.webhook or {}
        info: dict[str, Any] = {
            "url": webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.state.updates),
        }
        for key in ("allowed_updates", "max_connections"):
            if webhook.get(key):
                info[key] = webhook[key]
        return info

    # -- sending -----------------------------------------------------------------------------
    def send_message(self, params: Params, files: Files) -> Any:
        chat = self._chat_for_send(params)
        text = message_text(
            params.get("text"), params.get("parse_mode"), params.get("entities"), self.text_options
        )
        markup = validate_reply_markup(params.get("reply_markup"), private_chat=chat.is_private)
        content = MessageContent("text", text=text, reply_markup=markup)
        return self._send(chat, "sendMessage", params, content)

    def send_photo(self, params: Params, files: Files) -> Any:
        return self._send_media(params, files, "photo", "sendPhoto")

    def send_document(self, params: Params, files: Files) -> Any:
        return self._send_media(params, files, "document", "sendDocument")

    def send_voice(self, params: Params, files: Files) -> Any:
        return self._send_media(params, files, "voice", "sendVoice")

    def send_video(self, params: Params, files: Files) -> Any:
        return self._send_media(params, files, "video", "sendVideo")

    def send_video_note(self, params: Params, files: Files) -> Any:
        return self._send_media(params, files, "video_note", "sendVideoNote")

    def send_audio(self, params: Params, files: Files) -> Any:
        return self._send_media(params, files, "audio", "sendAudio")

    def send_animation(self, params: Params, files: Files) -> Any:
        return self._send_media(params, files, "animation", "sendAnimation")

    def _send_media(self, params: Params, files: Files, kind: str, method: str) -> Any:
        chat = self._chat_for_send(params)
        caption = None
        if kind not in KINDS_WITHOUT_CAPTION:  # sendVideoNote has no caption: Telegram ignores one
            caption = caption_text(
                params.get("caption"),
                params.get("parse_mode"),
                params.get("caption_entities"),
                self.text_options,
            )
        markup = validate_reply_markup(params.get("reply_markup"), private_chat=chat.is_private)
        stored = self._input_file(params, files, kind)
        content = MessageContent(kind, caption=caption, file=stored, reply_markup=markup)
        return self._send(chat, method, params, content)

    def send_chat_action(self, params: Params, files: Files) -> Any:
        chat = self._chat_for_send(params)
        action = params.get("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat.chat_actions.append(action)
        self.state.changed()
        return True

    # -- editing and deleting ------------------------------------------------------------------
    def edit_message_text(self, params: Params, files: Files) -> Any:
        message = self._message_to_edit(params)
        if message.content.kind != "text":
            raise bad_request("there is no text in the message to edit")
        text = message_text(
            params.get("text"), params.get("parse_mode"), params.get("entities"), self.text_options
        )
        content = replace(
            message.content, text=text, reply_markup=self._edited_markup(message, params)
        )
        return self._apply_edit(message, "editMessageText", content)

    def edit_message_caption(self, params: Params, files: Files) -> Any:
        message = self._message_to_edit(params)
        if message.content.file is None or message.content.kind in KINDS_WITHOUT_CAPTION:
            raise bad_request("there is no caption in the message to edit")
        caption = caption_text(
            params.get("caption"),
            params.get("parse_mode"),
            params.get("caption_entities"),
            self.text_options,
        )
        content = replace(
            message.content, caption=caption, reply_markup=self._edited_markup(message, params)
        )
        return self._apply_edit(message, "editMessageCaption", content)

    def edit_message_reply_markup(self, params: Params, files: Files) -> Any:
        message = self._message_to_edit(params)
        content = replace(message.content, reply_markup=self._edited_markup(message, params))
        return self._apply_edit(message, "editMessageReplyMarkup", content)

    def delete_message(self, params: Params, files: Files) -> Any:
        chat = self._existing_chat(params)
        message = chat.get(params.get("message_id") or 0)
        if message is None or message.deleted:
            raise bad_request(errors.MESSAGE_TO_DELETE_NOT_FOUND)
        if chat.is_group and not message.from_bot and chat.bot_status != "administrator":
            raise bad_request("message can't be deleted")
        self.state.delete_message(message)
        return True

    # -- callback queries ---------------------------------------------------------------------
    def answer_callback_query(self, params: Params, files: Files) -> Any:
        query = self.state.callback_queries.get(str(params.get("callback_query_id") or ""))
        if query is None or query.answer is not None or self.state.callback_query_expired(query):
            raise bad_request(errors.QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answer = {
            "callback_query_id": query.id,
            "text": text,
            "show_alert": bool(params.get("show_alert", False)),
            "url": params.get("url"),
            "cache_time": params.get("cache_time"),
        }
        self.state.callback_answers.append(query)
        self.state.changed()
        return True

    # -- files ------------------------------------------------------------------------------
    def get_file(self, params: Params, files: Files) -> Any:
        stored = self.state.files.get(str(params.get("file_id") or ""))
        if stored is None or stored.data is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return stored.file_json()

    # -- chats ------------------------------------------------------------------------------
    def get_chat(self, params: Params, files: Files) -> Any:
        return self._existing_chat(params).full_info_json()

    def get_chat_member(self, params: Params, files: Files) -> Any:
        chat = self._existing_chat(params)
        user_id = params.get("user_id")
        if user_id == self.state.bot.id:
            return chat_member_json(self.state.bot, chat.bot_status)
        user = self.state.users.get(user_id or 0)
        if user is None:
            raise bad_request("user not found")
        member = user.id in chat.members or (chat.is_private and chat.id == user.id)
        return chat_member_json(user, chat.member_status.get(user.id, "member") if member else "left")

    def leave_chat(self, params: Params, files: Files) -> Any:
        chat = self._existing_chat(params)
        if chat.is_private:
            raise bad_request("chat member status can't be changed in private chats")
        self._ensure_reachable(chat)
        old_status, chat.bot_status = chat.bot_status, "left"
        self.state.my_chat_member_update(chat, self.state.bot, old_status, "left")
        return True

    def set_chat_menu_button(self, params: Params, files: Files) -> Any:
        button = params.get("menu_button") or {"type": "default"}
        valid_types = ("default", "commands", "web_app")
        if not isinstance(button, dict) or button.get("type") not in valid_types:
            raise bad_request("can't parse menu button JSON object")
        if params.get("chat_id") in (None, ""):
            self.state.default_menu_button = button
        else:
            self._existing_chat(params).menu_button = button
        self.state.changed()
        return True

    def get_chat_menu_button(self, params: Params, files: Files) -> Any:
        if params.get("chat_id") in (None, ""):
            return self.state.default_menu_button
        return self._existing_chat(params).menu_button or self.state.default_menu_button

    # -- bot settings ---------------------------------------------------------------------------
    def _commands_key(self, params: Params) -> tuple[str, str]:
        scope = params.get("scope")
        valid = scope is None or (isinstance(scope, dict) and scope.get("type") in SCOPE_TYPES)
        if not valid:
            raise bad_request("can't parse BotCommandScope JSON object")
        if scope and scope["type"].startswith("chat"):
            self._existing_chat(scope)
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        return self.state.scope_key(scope), language

    def set_my_commands(self, params: Params, files: Files) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(command.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        cleaned = [{"command": c["command"], "description": c["description"]} for c in commands]
        if cleaned:
            self.state.commands[key] = cleaned
        else:
            self.state.commands.pop(key, None)
        self.state.changed()
        return True

    def get_my_commands(self, params: Params, files: Files) -> Any:
        return self.state.commands.get(self._commands_key(params), [])

    def delete_my_commands(self, params: Params, files: Files) -> Any:
        self.state.commands.pop(self._commands_key(params), None)
        self.state.changed()
        return True

    def _set_bot_text(self, field: str, params: Params) -> Any:
        value = str(params.get(field) or "")
        if len(value) > _BOT_TEXT_LIMITS[field]:
            raise bad_request(f"{field} is too long")
        key = (field, str(params.get("language_code") or ""))
        if value:
            self.state.bot_texts[key] = value
        else:
            self.state.bot_texts.pop(key, None)
        self.state.changed()
        return True

    def _get_bot_text(self, field: str, params: Params) -> Any:
        key = (field, str(params.get("language_code") or ""))
        return {field: self.state.bot_texts.get(key, "")}

    def set_my_name(self, params: Params, files: Files) -> Any:
        return self._set_bot_text("name", params)

    def get_my_name(self, params: Params, files: Files) -> Any:
        return self._get_bot_text("name", params)

    def set_my_description(self, params: Params, files: Files) -> Any:
        return self._set_bot_text("description", params)

    def get_my_description(self, params: Params, files: Files) -> Any:
        return self._get_bot_text("description", params)

    def set_my_short_description(self, params: Params, files: Files) -> Any:
        return self._set_bot_text("short_description", params)

    def get_my_short_description(self, params: Params, files: Files) -> Any:
        return self._get_bot_text("short_description", params)


_API_METHODS = (
    "get_me", "get_updates", "set_webhook", "delete_webhook", "get_webhook_info",
    "send_message", "send_photo", "send_document", "send_voice", "send_video",
    "send_video_note", "send_audio", "send_animation", "send_chat_action",
    "edit_message_text", "edit_message_caption", "edit_message_reply_markup",
    "delete_message", "answer_callback_query", "get_file", "get_chat", "get_chat_member",
    "leave_chat", "set_chat_menu_button", "get_chat_menu_button",
    "set_my_commands", "get_my_commands", "delete_my_commands",
    "set_my_name", "get_my_name", "set_my_description", "get_my_description",
    "set_my_short_description", "get_my_short_description",
)  # fmt: skip
SUPPORTED_METHODS = tuple(_snake_to_camel(name) for name in _API_METHODS)
