"""Plain data records of the fake: users, chats, messages, files, calls, callback queries.

Each record knows how to render itself as Bot API JSON (``to_json``) in a shape PTB's
``de_json`` accepts. Records hold no asyncio objects and do no I/O; mutation rules live
in :mod:`.state` and :mod:`.methods`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .formatting import FormattedText
from .params import UploadedFile


@dataclass
class UserRecord:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    phone_number: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value:
                data[key] = value
        return data

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


# The kinds of file a message can carry, named like the Message field that holds it.
FILE_KINDS = ("photo", "document", "voice", "video", "video_note", "audio", "animation")
# Telegram shows these without a caption (sendVideoNote has no caption parameter).
KINDS_WITHOUT_CAPTION = frozenset({"video_note"})


@dataclass
class StoredFile:
    """A file known to the fake: uploaded by the bot, sent by a user, or referenced by URL."""

    file_id: str
    file_unique_id: str
    kind: str  # one of FILE_KINDS
    data: bytes | None
    filename: str | None
    mime_type: str | None
    file_path: str
    url: str | None = None
    width: int = 0  # photos, videos, animations; a video note's diameter ("length")
    height: int = 0
    duration: int = 0  # seconds: voice, audio, video, video note, animation
    performer: str | None = None  # audio
    title: str | None = None  # audio

    @property
    def file_size(self) -> int | None:
        return len(self.data) if self.data is not None else None

    def _base_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"file_id": self.file_id, "file_unique_id": self.file_unique_id}
        if self.file_size is not None:
            data["file_size"] = self.file_size
        return data

    def document_json(self) -> dict[str, Any]:
        data = self._base_json()
        if self.filename:
            data["file_name"] = self.filename
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data

    def photo_json(self) -> list[dict[str, Any]]:
        return [{**self._base_json(), "width": self.width, "height": self.height}]

    def media_json(self) -> Any:
        """The Message field's object for this kind: PhotoSize list, Document, Voice, Video,
        VideoNote, Audio or Animation, with the fields Telegram fills in."""
        if self.kind == "photo":
            return self.photo_json()
        if self.kind == "document":
            return self.document_json()
        data = self._base_json()
        if self.kind == "video_note":
            return {**data, "length": self.width, "duration": self.duration}
        data["duration"] = self.duration
        if self.kind in ("video", "animation"):
            data.update(width=self.width, height=self.height)
        if self.kind == "audio":
            data.update({key: value for key, value in (("performer", self.performer), ("title", self.title))
                         if value})
        if self.kind != "voice" and self.filename:
            data["file_name"] = self.filename
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data

    def file_json(self) -> dict[str, Any]:
        """The ``File`` object returned by getFile."""
        return {**self._base_json(), "file_path": self.file_path}


@dataclass(frozen=True)
class MessageContent:
    """What a message shows; replaced as a whole on every edit (kept in the history)."""

    kind: str  # "text" | "contact" | "service" | one of FILE_KINDS
    text: FormattedText | None = None
    caption: FormattedText | None = None
    file: StoredFile | None = None
    contact: dict[str, Any] | None = None
    reply_markup: dict[str, Any] | None = None  # as sent: inline, reply keyboard, remove, force
    service: dict[str, Any] | None = None  # a service message's fields, e.g. {"migrate_to_chat_id": ...}

    @property
    def inline_markup(self) -> dict[str, Any] | None:
        markup = self.reply_markup
        return markup if markup and "inline_keyboard" in markup else None

    def looks_same_as(self, other: MessageContent) -> bool:
        """Telegram's "message is not modified" comparison."""
        return (
            _formatted_key(self.text) == _formatted_key(other.text)
            and _formatted_key(self.caption) == _formatted_key(other.caption)
            and self.inline_markup == other.inline_markup
        )

    def fill_json(self, data: dict[str, Any]) -> None:
        if self.text is not None:
            data["text"] = self.text.text
            if self.text.entities:
                data["entities"] = self.text.entities
        if self.file is not None:
            data[self.kind] = self.file.media_json()
            if self.kind == "animation":  # for clients that predate animations, as Telegram does
                data["document"] = self.file.document_json()
        if self.caption is not None:
            data["caption"] = self.caption.text
            if self.caption.entities:
                data["caption_entities"] = self.caption.entities
        if self.contact is not None:
            data["contact"] = self.contact
        if self.service is not None:
            data.update(self.service)
        if self.inline_markup is not None:
            data["reply_markup"] = self.inline_markup


def _formatted_key(value: FormattedText | None) -> tuple[str, Any] | None:
    return None if value is None else (value.text, value.entities)


@dataclass
class MessageEdit:
    """One edit of a bot message: the content before and after."""

    chat_id: int
    message_id: int
    method: str
    before: MessageContent
    after: MessageContent
    date: int


@dataclass
class StoredMessage:
    chat: ChatRecord
    message_id: int
    date: int
    sender: UserRecord
    content: MessageContent
    reply_to: StoredMessage | None = None
    send_method: str | None = None  # for bot messages: sendMessage, sendPhoto, ...
    send_params: dict[str, Any] = field(default_factory=dict)
    edits: list[MessageEdit] = field(default_factory=list)
    edit_date: int | None = None
    deleted: bool = False

    @property
    def from_bot(self) -> bool:
        return self.sender.is_bot

    def to_json(self, include_reply: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender.to_json(),
            "chat": self.chat.to_json(),
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if include_reply and self.reply_to is not None:
            data["reply_to_message"] = self.reply_to.to_json(include_reply=False)
        if self.send_params.get("protect_content"):
            data["has_protected_content"] = True
        self.content.fill_json(data)
        return data


@dataclass
class ChatRecord:
    id: int
    type: str  # "private" | "group" | "supergroup"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    bot_status: str = "member"  # member | administrator | kicked | left
    blocked: bool = False  # private chats: the user blocked the bot
    deactivated: bool = False  # private chats: the user deleted the account
    deleted: bool = False  # the chat no longer exists -> "chat not found"
    started: bool = True  # private chats: the user has talked to the bot before
    next_message_id: int = 1
    messages: list[StoredMessage] = field(default_factory=list)
    edit_log: list[MessageEdit] = field(default_factory=list)
    chat_actions: list[str] = field(default_factory=list)
    menu_button: dict[str, Any] | None = None
    members: dict[int, UserRecord] = field(default_factory=dict)
    member_status: dict[int, str] = field(default_factory=dict)  # "restricted" ...; members without one: "member"
    migrated_to: int | None = None  # the supergroup this group became: calls get 400 with migrate_to_chat_id

    @property
    def is_private(self) -> bool:
        return self.type == "private"

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def get(self, message_id: int) -> StoredMessage | None:
        for message in self.messages:
            if message.message_id == message_id:
                return message
        return None

    def bot_messages(self) -> list[StoredMessage]:
        return [m for m in self.messages if m.from_bot]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        optional = (
            ("first_name", "last_name", "username")
            if self.is_private
            else ("title", "username")
        )
        for key in optional:
            value = getattr(self, key)
            if value:
                data[key] = value
        return data

    def full_info_json(self) -> dict[str, Any]:
        """The ChatFullInfo object returned by getChat."""
        return {
            **self.to_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }


@dataclass
class ApiCall:
    """One recorded HTTP call to the Bot API."""

    seq: int
    method: str  # canonical spelling, e.g. "sendMessage" (raw_method holds what was sent)
    raw_method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    time: float  # the fake's clock when the request arrived
    status: int | None = None  # None while in flight or if the client went away
    response: dict[str, Any] | None = None
    finished: float | None = None  # the fake's clock when the answer was ready

    @property
    def chat_id(self) -> int | str | None:
        return self.params.get("chat_id")

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return (self.response or {}).get("result")

    @property
    def description(self) -> str | None:
        return (self.response or {}).get("description")

    def __repr__(self) -> str:
        outcome = "ok" if self.ok else f"{self.status} {self.description}"
        return f"<ApiCall #{self.seq} {self.method} chat={self.chat_id} -> {outcome}>"


@dataclass
class CallbackQueryRecord:
    id: str
    user: UserRecord
    chat_id: int
    message_id: int
    data: str
    created: float  # the fake's clock
    answer: dict[str, Any] | None = None


def chat_member_json(user: UserRecord, status: str) -> dict[str, Any]:
    """A ChatMember object PTB can parse, for the given status."""
    data: dict[str, Any] = {"user": user.to_json(), "status": status}
    if status == "kicked":
        data["until_date"] = 0
    elif status == "restricted":  # may stay and read, may not write
        data.update({"is_member": True, "until_date": 0, **{permission: False for permission in (
            "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos",
            "can_send_video_notes", "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
            "can_add_web_page_previews", "can_change_info", "can_invite_users", "can_pin_messages",
            "can_manage_topics", "can_edit_tag", "can_react_to_messages")}})
    elif status == "administrator":
        data.update(
            {
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": False,
                "can_restrict_members": False,
                "can_promote_members": False,
                "can_change_info": False,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_pin_messages": True,
            }
        )
    return data
