"""The fake Telegram's world: users, chats, messages, files, pending updates, calls.

:class:`BotState` is synchronous and single-threaded (it lives in the test's event
loop). Every mutation calls ``self.notifier.notify()`` so that waiters in the server
(long polling) and in the driver (``next_message`` ...) wake up immediately.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import struct
import time
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from .models import (
    ApiCall,
    CallbackQueryRecord,
    ChatRecord,
    MessageContent,
    MessageEdit,
    StoredFile,
    StoredMessage,
    UserRecord,
    chat_member_json,
)
from .notifier import ChangeNotifier

# Update types Telegram leaves out unless asked for explicitly.
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
FIRST_UPDATE_ID = 100_001
FIRST_USER_ID = 700_000_001
FIRST_GROUP_ID = -1_001_900_000_001
# How Telegram's file ids of each kind begin (the file type in its first bytes) ...
_FILE_ID_PREFIXES = {
    "photo": "AgACAgIAAxkBAAI", "voice": "AwACAgIAAxkBAAI", "video": "BAACAgIAAxkBAAI",
    "document": "BQACAgIAAxkBAAI", "audio": "CQACAgIAAxkBAAI", "animation": "CgACAgIAAxkBAAI",
    "video_note": "DQACAgIAAxkBAAI",
}  # fmt: skip
# ... and where getFile puts them (folder, suffix when the file's name has none).
_FILE_FOLDERS = {
    "photo": ("photos", ".jpg"), "voice": ("voice", ".oga"), "video": ("videos", ".mp4"),
    "document": ("documents", ".bin"), "audio": ("music", ".mp3"), "animation": ("animations", ".mp4"),
    "video_note": ("video_notes", ".mp4"),
}  # fmt: skip
# Width and height when the sender did not say (a video note is square: its "length").
_DEFAULT_SIZES = {"video": (1280, 720), "animation": (480, 270), "video_note": (384, 384)}


def bot_id_from_token(token: str) -> int:
    prefix = token.split(":", 1)[0]
    return int(prefix) if prefix.isdigit() else 123_456


def update_kind(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


class BotState:
    def __init__(
        self,
        *,
        token: str,
        bot_username: str,
        bot_first_name: str,
        privacy_mode: bool,
        clock: Callable[[], float],
        callback_query_timeout: float | None = None,
    ) -> None:
        self.clock = clock
        self.notifier = ChangeNotifier()
        self.bot = UserRecord(
            id=bot_id_from_token(token),
            first_name=bot_first_name,
            username=bot_username,
            is_bot=True,
        )
        self.privacy_mode = privacy_mode
        self.callback_query_timeout = callback_query_timeout
        self.users: dict[int, UserRecord] = {}
        self.chats: dict[int, ChatRecord] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.updates: list[dict[str, Any]] = []  # enqueued, not yet confirmed by an offset
        self.all_updates: list[dict[str, Any]] = []  # everything ever enqueued
        self.swallowed_updates: list[dict[str, Any]] = []  # hidden by group privacy mode
        self.allowed_updates: list[str] | None = None
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        # (name | description | short_description, language_code) -> text
        self.bot_texts: dict[tuple[str, str], str] = {}
        self.default_menu_button: dict[str, Any] = {"type": "default"}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.callback_answers: list[CallbackQueryRecord] = []
        self.calls: list[ApiCall] = []
        self.bot_messages: list[StoredMessage] = []  # everything the bot sent, in order
        self.file_downloads: list[str] = []
        self._update_ids = itertools.count(FIRST_UPDATE_ID)
        self._user_ids = itertools.count(FIRST_USER_ID)
        self._group_ids = itertools.count(-FIRST_GROUP_ID)
        self._file_seq = itertools.count(1)
        self._query_seq = itertools.count(1)
        self._call_seq = itertools.count(1)

    # -- helpers -------------------------------------------------------------------------
    def changed(self) -> None:
        self.notifier.notify()

    @staticmethod
    def unix_now() -> int:
        return int(time.time())

    # -- users and chats ---------------------------------------------------------------------
    def add_user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "de",
        user_id: int | None = None,
        phone_number: str | None = None,
        started: bool = True,
    ) -> tuple[UserRecord, ChatRecord]:
        uid = user_id if user_id is not None else next(self._user_ids)
        if uid in self.users:
            raise ValueError(f"user id {uid} already exists")
        user = UserRecord(
            id=uid,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            phone_number=phone_number or f"+49176{uid % 10**8:08d}",
        )
        chat = ChatRecord(
            id=uid,
            type="private",
            first_name=first_name,
            last_name=last_name,
            username=username,
            started=started,
        )
        self.users[uid] = user
        self.chats[uid] = chat
        self.changed()
        return user, chat

    def add_group(
        self,
        title: str,
        chat_id: int | None = None,
        chat_type: str = "supergroup",
        username: str | None = None,
        bot_status: str = "member",
    ) -> ChatRecord:
        cid = chat_id if chat_id is not None else -next(self._group_ids)
        if cid >= 0:
            raise ValueError("group chat ids are negative")
        if cid in self.chats:
            raise ValueError(f"chat id {cid} already exists")
        chat = ChatRecord(
            id=cid, type=chat_type, title=title, username=username, bot_status=bot_status
        )
        self.chats[cid] = chat
        self.changed()
        return chat

    def find_chat(self, chat_id: int | str) -> ChatRecord | None:
        if isinstance(chat_id, int):
            return self.chats.get(chat_id)
        name = str(chat_id).lstrip("@").lower()
        return next(
            (c for c in self.chats.values() if c.username and c.username.lower() == name), None
        )

    def resolve_user(self, user_id: int) -> dict[str, Any] | None:
        user = self.users.get(user_id)
        return user.to_json() if user else None

    # -- messages --------------------------------------------------------------------------
    def add_message(
        self,
        chat: ChatRecord,
        sender: UserRecord,
        content: MessageContent,
        *,
        reply_to: StoredMessage | None = None,
        send_method: str | None = None,
        send_params: dict[str, Any] | None = None,
    ) -> StoredMessage:
        message = StoredMessage(
            chat=chat,
            message_id=chat.next_message_id,
            date=self.unix_now(),
            sender=sender,
            content=content,
            reply_to=reply_to,
            send_method=send_method,
            send_params=dict(send_params or {}),
        )
        chat.next_message_id += 1
        chat.messages.append(message)
        if sender.is_bot:
            self.bot_messages.append(message)
        self.changed()
        return message

    def record_edit(
        self, message: StoredMessage, method: str, content: MessageContent
    ) -> MessageEdit:
        edit = MessageEdit(
            chat_id=message.chat.id,
            message_id=message.message_id,
            method=method,
            before=message.content,
            after=content,
            date=self.unix_now(),
        )
        message.content = content
        message.edit_date = edit.date
        message.edits.append(edit)
        message.chat.edit_log.append(edit)
        self.changed()
        return edit

    def delete_message(self, message: StoredMessage) -> None:
        message.deleted = True
        self.changed()

    # -- updates --------------------------------------------------------------------------
    def enqueue_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: payload}
        self.updates.append(update)
        self.all_updates.append(update)
        self.changed()
        return update

    def swallow_update(self, kind: str, payload: dict[str, Any]) -> None:
        """Record a group message the bot does not get because of privacy mode."""
        self.swallowed_updates.append({kind: payload})
        self.changed()

    def confirm_updates(self, offset: int) -> None:
        """Forget updates confirmed by ``offset`` (negative: keep only the last -offset)."""
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]
        self.changed()

    def drop_pending_updates(self) -> None:
        self.updates.clear()
        self.changed()

    def deliverable_updates(self, limit: int) -> list[dict[str, Any]]:
        """Pending updates the bot asked for; updates of unwanted types are discarded."""
        self.updates = [u for u in self.updates if self._allowed(u)]
        return self.updates[:limit]

    def _allowed(self, update: dict[str, Any]) -> bool:
        kind = update_kind(update)
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in DEFAULT_EXCLUDED_UPDATES

    def my_chat_member_update(
        self, chat: ChatRecord, actor: UserRecord, old_status: str, new_status: str
    ) -> dict[str, Any]:
        return self.enqueue_update(
            "my_chat_member",
            {
                "chat": chat.to_json(),
                "from": actor.to_json(),
                "date": self.unix_now(),
                "old_chat_member": chat_member_json(self.bot, old_status),
                "new_chat_member": chat_member_json(self.bot, new_status),
            },
        )

    def group_message_reaches_bot(self, message: StoredMessage) -> bool:
        """Telegram's privacy mode for groups (the bot's default)."""
        chat = message.chat
        if chat.bot_status in ("left", "kicked"):
            return False
        if not self.privacy_mode or chat.bot_status == "administrator":
            return True
        if message.reply_to is not None and message.reply_to.from_bot:
            return True
        formatted = message.content.text or message.content.caption
        if formatted is None:
            return False
        username = (self.bot.username or "").lower()
        for entity in formatted.entities:
            if entity["type"] == "bot_command" and entity["offset"] == 0:
                command = formatted.text[: entity["length"]]
                target = command.partition("@")[2].lower()
                return not target or target == username
        return f"@{username}" in formatted.text.lower()

    # -- files ---------------------------------------------------------------------------
    def store_file(
        self,
        kind: str,
        data: bytes | None,
        filename: str | None = None,
        mime_type: str | None = None,
        url: str | None = None,
        **details: Any,
    ) -> StoredFile:
        """A new file of ``kind`` (one of FILE_KINDS); ``details`` are its width, height,
        duration, performer, title as the sender gave them."""
        seq = next(self._file_seq)
        digest = hashlib.sha1(f"{kind}:{seq}".encode()).hexdigest()[:24]
        folder, default_suffix = _FILE_FOLDERS[kind]
        suffix = default_suffix if kind == "photo" else PurePosixPath(filename or "").suffix or default_suffix
        width, height = image_size(data) if kind == "photo" and data else (0, 0)
        stored = StoredFile(
            file_id=f"{_FILE_ID_PREFIXES[kind]}{seq:05d}{digest}",
            file_unique_id=f"AQAD{seq:05d}{digest[:8]}",
            kind=kind,
            data=data,
            filename=filename,
            mime_type=mime_type,
            file_path=f"{folder}/file_{seq}{suffix}",
            url=url,
            width=details.pop("width", None) or width or _DEFAULT_SIZES.get(kind, (800, 600))[0],
            height=details.pop("height", None) or height or _DEFAULT_SIZES.get(kind, (800, 600))[1],
            **details,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    # -- callback queries -------------------------------------------------------------
    def new_callback_query(
        self, user: UserRecord, message: StoredMessage, data: str
    ) -> CallbackQueryRecord:
        query = CallbackQueryRecord(
            id=str(4_000_000_000_000_000_000 + next(self._query_seq)),
            user=user,
            chat_id=message.chat.id,
            message_id=message.message_id,
            data=data,
            created=self.clock(),
        )
        self.callback_queries[query.id] = query
        return query

    def callback_query_expired(self, query: CallbackQueryRecord) -> bool:
        timeout = self.callback_query_timeout
        return timeout is not None and self.clock() - query.created > timeout

    # -- calls ----------------------------------------------------------------------------
    def begin_call(self, method: str, raw_method: str) -> ApiCall:
        call = ApiCall(
            seq=next(self._call_seq),
            method=method,
            raw_method=raw_method,
            params={},
            files={},
            time=self.clock(),
        )
        self.calls.append(call)
        return call

    def finish_call(
        self, call: ApiCall, status: int | None, response: dict[str, Any] | None
    ) -> None:
        call.status = status
        call.response = response
        call.finished = self.clock()
        self.changed()

    # -- bot settings ---------------------------------------------------------------------
    @staticmethod
    def scope_key(scope: dict[str, Any] | None) -> str:
        return json.dumps(scope or {"type": "default"}, sort_keys=True)


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG or JPEG, (0, 0) if unknown."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return 0, 0


def _jpeg_size(data: bytes) -> tuple[int, int]:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return 0, 0
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return 0, 0
