"""Playing Telegram users against the fake Bot API.

:class:`FakeUser` is a person in a private chat with the bot, :class:`FakeGroup` a
(staff) group in which :class:`FakeUser` s write. Everything a user does becomes a
realistic update in the fake's queue, which the bot under test fetches via getUpdates.

Reading what the bot sent never sleeps: ``next_message`` / ``next_edit`` /
``next_callback_answer`` wait on the fake's change notifier and return as soon as the
bot's request has been processed. Each driver keeps its own cursors, so every message
is returned once. On timeout they raise ``AssertionError`` with a transcript of the chat
(including failed API calls, which usually explain why nothing arrived).

``expect_no_message(within=...)`` is the only bounded wait that is expected to time
out; each use costs ``within`` seconds of test time, so use it sparingly.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .formatting import FormattedText
from .html_parser import utf16_len
from .markup import inline_buttons, keyboard_buttons
from .models import (
    KINDS_WITHOUT_CAPTION,
    ChatRecord,
    MessageContent,
    MessageEdit,
    StoredMessage,
    UserRecord,
    chat_member_json,
)

if TYPE_CHECKING:
    from .server import FakeBotApi

DEFAULT_TIMEOUT = 10.0
# tdlib-like detection of "/command" and "/command@bot" in user texts.
_BOT_COMMAND = re.compile(r"(?<![\w/<>@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")


# ---------------------------------------------------------------------------------------
# Views on what the bot sent
# ---------------------------------------------------------------------------------------
class ContentView:
    """Read-only accessors for one state of a message's content."""

    def __init__(self, content: MessageContent) -> None:
        self._fixed_content = content

    @property
    def content(self) -> MessageContent:
        return self._fixed_content

    @property
    def kind(self) -> str:
        return self.content.kind

    @property
    def text(self) -> str | None:
        """Plain text as the user sees it (after HTML parsing)."""
        return self.content.text.text if self.content.text else None

    @property
    def html(self) -> str | None:
        """The raw text exactly as the bot sent it."""
        return self.content.text.raw if self.content.text else None

    raw_text = html

    @property
    def parse_mode(self) -> str | None:
        formatted = self.content.text or self.content.caption
        return formatted.parse_mode if formatted else None

    @property
    def entities(self) -> list[dict[str, Any]]:
        formatted = self.content.text or self.content.caption
        return list(formatted.entities) if formatted else []

    @property
    def caption(self) -> str | None:
        return self.content.caption.text if self.content.caption else None

    @property
    def caption_html(self) -> str | None:
        return self.content.caption.raw if self.content.caption else None

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        """The markup as sent: inline keyboard, reply keyboard, remove_keyboard or force_reply."""
        return self.content.reply_markup

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        return inline_buttons(self.content.reply_markup)

    @property
    def buttons(self) -> list[list[str]]:
        """Rows of button texts (inline keyboard, else reply keyboard)."""
        rows = inline_buttons(self.content.reply_markup) or keyboard_buttons(
            self.content.reply_markup
        )
        return [[button["text"] for button in row] for row in rows]

    @property
    def callback_data(self) -> list[str]:
        return [
            button["callback_data"]
            for row in self.inline_keyboard
            for button in row
            if "callback_data" in button
        ]

    def _describe_content(self) -> str:
        body = self.text if self.text is not None else f"[{self.kind}] {self.caption or ''}"
        if self.buttons:
            body += "  " + " / ".join("[" + "] [".join(row) + "]" for row in self.buttons)
        return body


class BotMessage(ContentView):
    """Live view of a message the bot sent: attributes reflect the current state."""

    def __init__(self, stored: StoredMessage) -> None:
        self.stored = stored

    @property
    def content(self) -> MessageContent:
        return self.stored.content

    @property
    def message_id(self) -> int:
        return self.stored.message_id

    @property
    def chat_id(self) -> int:
        return self.stored.chat.id

    @property
    def date(self) -> int:
        return self.stored.date

    @property
    def method(self) -> str | None:
        """The sending method: sendMessage, sendPhoto, sendDocument, sendVoice, sendVideoNote ..."""
        return self.stored.send_method

    @property
    def params(self) -> dict[str, Any]:
        """Normalized parameters of the send call (disable_notification, ...)."""
        return self.stored.send_params

    @property
    def deleted(self) -> bool:
        return self.stored.deleted

    @property
    def edits(self) -> list[BotEdit]:
        return [BotEdit(edit, self) for edit in self.stored.edits]

    @property
    def reply_to_message_id(self) -> int | None:
        return self.stored.reply_to.message_id if self.stored.reply_to else None

    @property
    def disable_notification(self) -> bool:
        return bool(self.params.get("disable_notification"))

    @property
    def protect_content(self) -> bool:
        return bool(self.params.get("protect_content"))

    @property
    def link_preview_options(self) -> dict[str, Any] | None:
        return self.params.get("link_preview_options")

    @property
    def photo(self) -> bytes | None:
        file = self.content.file
        return file.data if file and self.kind == "photo" else None

    @property
    def document(self) -> bytes | None:
        return self._file_data("document")

    @property
    def voice(self) -> bytes | None:
        return self._file_data("voice")

    @property
    def video(self) -> bytes | None:
        return self._file_data("video")

    @property
    def video_note(self) -> bytes | None:
        return self._file_data("video_note")

    @property
    def audio(self) -> bytes | None:
        return self._file_data("audio")

    @property
    def animation(self) -> bytes | None:
        return self._file_data("animation")

    def _file_data(self, kind: str) -> bytes | None:
        file = self.content.file
        return file.data if file and self.kind == kind else None

    @property
    def filename(self) -> str | None:
        return self.content.file.filename if self.content.file else None

    @property
    def mime_type(self) -> str | None:
        return self.content.file.mime_type if self.content.file else None

    @property
    def file_id(self) -> str | None:
        return self.content.file.file_id if self.content.file else None

    def to_json(self) -> dict[str, Any]:
        """The Message object as Telegram would send it now."""
        return self.stored.to_json()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BotMessage) and other.stored is self.stored

    def __hash__(self) -> int:
        return id(self.stored)

    def __repr__(self) -> str:
        flags = " deleted" if self.deleted else ""
        flags += f" edited x{len(self.stored.edits)}" if self.stored.edits else ""
        body = self._describe_content()
        return f"<BotMessage #{self.message_id} chat={self.chat_id}{flags}: {body!r}>"


class BotEdit(ContentView):
    """One edit: the content right after it (``before`` holds the previous state)."""

    def __init__(self, edit: MessageEdit, message: BotMessage) -> None:
        super().__init__(edit.after)
        self.edit = edit
        self.message = message
        self.method = edit.method
        self.before = ContentView(edit.before)

    @property
    def message_id(self) -> int:
        return self.edit.message_id

    def __repr__(self) -> str:
        return f"<BotEdit {self.method} #{self.message_id}: {self._describe_content()!r}>"


# ---------------------------------------------------------------------------------------
# Shared chat behaviour
# ---------------------------------------------------------------------------------------
def chat_instance(chat_id: int) -> str:
    """A stable, Telegram-looking ``chat_instance`` for callback queries."""
    return str((chat_id * 2_654_435_761) % 10**19 - 5 * 10**18)


def user_text(text: str) -> FormattedText:
    """A text typed by a user, with the bot_command entities Telegram would add."""
    entities = [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: match.start()]),
            "length": utf16_len(match.group()),
        }
        for match in _BOT_COMMAND.finditer(text)
    ]
    return FormattedText(raw=text, text=text, entities=entities)


class _ChatDriver:
    """Behaviour common to private chats and groups."""

    def __init__(self, api: FakeBotApi, chat: ChatRecord) -> None:
        self.api = api
        self.state = api.state
        self.chat = chat
        self._message_cursor = 0
        self._edit_cursor = 0
        self._answer_cursor = 0

    @property
    def chat_id(self) -> int:
        return self.chat.id

    # -- reading what the bot sent ------------------------------------------------------
    @property
    def messages(self) -> list[BotMessage]:
        """Every message the bot sent to this chat (consumed or not)."""
        return [BotMessage(m) for m in self.chat.bot_messages()]

    async def next_message(self, timeout: float = DEFAULT_TIMEOUT) -> BotMessage:
        """The next bot message in this chat not returned before."""

        def pending() -> StoredMessage | None:
            sent = self.chat.bot_messages()
            return sent[self._message_cursor] if len(sent) > self._message_cursor else None

        stored = await self._wait(pending, timeout, "a new message from the bot")
        self._message_cursor += 1
        return BotMessage(stored)

    def drain_messages(self) -> list[BotMessage]:
        """Mark everything received so far as consumed and return it (no waiting)."""
        sent = self.chat.bot_messages()
        fresh, self._message_cursor = sent[self._message_cursor :], len(sent)
        return [BotMessage(m) for m in fresh]

    async def next_edit(self, timeout: float = DEFAULT_TIMEOUT) -> BotEdit:
        """The next edit of any message in this chat not returned before."""

        def pending() -> MessageEdit | None:
            log = self.chat.edit_log
            return log[self._edit_cursor] if len(log) > self._edit_cursor else None

        edit = await self._wait(pending, timeout, "an edit by the bot")
        self._edit_cursor += 1
        message = self.chat.get(edit.message_id)
        assert message is not None
        return BotEdit(edit, BotMessage(message))

    async def expect_no_message(self, within: float = 0.5) -> None:
        """Assert the bot sends nothing new here within ``within`` seconds.

        Messages that already arrived but were not consumed (``next_message``,
        ``drain_messages``) count as failures too. This is the one deliberate bounded wait: it always costs ``within`` seconds when
        it passes, so prefer waiting for a positive signal (a call, a message) instead.
        """
        sent = self.chat.bot_messages()
        if len(sent) > self._message_cursor:
            unexpected = sent[self._message_cursor]
        else:
            try:
                unexpected = await self.state.notifier.wait_for(
                    lambda: len(self.chat.bot_messages()) > self._message_cursor
                    and self.chat.bot_messages()[self._message_cursor],
                    within,
                )
            except TimeoutError:
                return
        raise AssertionError(
            f"expected no new message in {self.describe()}, but the bot sent "
            f"{BotMessage(unexpected)!r}\n{self.transcript()}"
        )

    async def _next_answer(self, belongs: Any, timeout: float) -> dict[str, Any]:
        def pending() -> dict[str, Any] | None:
            mine = [q for q in self.state.callback_answers if belongs(q)]
            return mine[self._answer_cursor].answer if len(mine) > self._answer_cursor else None

        answer = await self._wait(pending, timeout, "an answerCallbackQuery")
        self._answer_cursor += 1
        return dict(answer)

    async def _wait(self, pending: Any, timeout: float, what: str) -> Any:
        try:
            return await self.state.notifier.wait_for(pending, timeout)
        except TimeoutError:
            raise AssertionError(
                f"{self.describe()}: no {what} within {timeout}s\n{self.transcript()}"
            ) from None

    # -- diagnostics ---------------------------------------------------------------------------
    def describe(self) -> str:
        name = self.chat.title or " ".join(
            p for p in (self.chat.first_name, self.chat.last_name) if p
        )
        return f"chat {self.chat.id} ({self.chat.type}, {name})"

    def transcript(self) -> str:
        """Everything that happened in this chat, for assertion messages."""
        lines = [f"--- transcript of {self.describe()} ---"]
        for message in self.chat.messages:
            lines.extend(_transcript_lines(message))
        if self.chat.chat_actions:
            lines.append(f"chat actions: {', '.join(self.chat.chat_actions)}")
        failed = [
            c for c in self.state.calls
            if c.chat_id == self.chat.id and c.status not in (None, 200)
        ]  # fmt: skip
        if failed:
            lines.append("failed API calls for this chat:")
            lines.extend(f"  {call.method} -> {call.status} {call.description}" for call in failed)
        total = len(self.chat.bot_messages())
        lines.append(f"--- {self._message_cursor} of {total} bot messages consumed ---")
        return "\n".join(lines)

    # -- acting ---------------------------------------------------------------------------
    def _post(
        self,
        sender: UserRecord,
        content: MessageContent,
        reply_to: StoredMessage | None = None,
    ) -> dict[str, Any]:
        """Store a user's message and enqueue the update (unless privacy mode hides it)."""
        stored = self.state.add_message(self.chat, sender, content, reply_to=reply_to)
        payload = stored.to_json()
        if self.chat.is_group:
            self.chat.members[sender.id] = sender
            if not self.state.group_message_reaches_bot(stored):
                self.state.swallow_update("message", payload)
                return payload
        self.state.enqueue_update("message", payload)
        return payload

    def _command_content(
        self, command: str, payload: str | None, with_username: bool
    ) -> MessageContent:
        command = command if command.startswith("/") else f"/{command}"
        if with_username:
            command = f"{command}@{self.state.bot.username}"
        text = command if payload is None else f"{command} {payload}"
        entity = {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
        return MessageContent("text", text=FormattedText(raw=text, text=text, entities=[entity]))

    def _document_content(
        self, filename: str, data: bytes, mime_type: str | None, caption: str | None
    ) -> MessageContent:
        stored = self.state.store_file("document", data, filename, mime_type)
        return MessageContent("document", file=stored, caption=_user_caption(caption))

    def _photo_content(self, data: bytes, caption: str | None) -> MessageContent:
        stored = self.state.store_file("photo", data)
        return MessageContent("photo", file=stored, caption=_user_caption(caption))

    def _media_content(
        self,
        kind: str,
        data: bytes,
        caption: str | None = None,
        *,
        filename: str | None = None,
        mime_type: str | None = None,
        **details: Any,
    ) -> MessageContent:
        """A voice message, video, video note, audio file or animation as a client sends it;
        a video note carries no caption (Telegram's apps offer none)."""
        if kind in KINDS_WITHOUT_CAPTION and caption:
            raise AssertionError(f"a {kind} has no caption in Telegram")
        stored = self.state.store_file(kind, data, filename, mime_type, **details)
        return MessageContent(kind, file=stored, caption=_user_caption(caption))

    def _resolve(self, message: Any) -> StoredMessage:
        """Find a message of this chat from a BotMessage, dict, StoredMessage or id."""
        if isinstance(message, BotMessage):
            stored = message.stored
        elif isinstance(message, StoredMessage):
            stored = message
        else:
            message_id = message.get("message_id") if isinstance(message, dict) else message
            chat_id = message.get("chat", {}).get("id") if isinstance(message, dict) else None
            if chat_id not in (None, self.chat.id):
                raise AssertionError(f"message #{message_id} belongs to chat {chat_id}")
            found = self.chat.get(int(message_id))
            if found is None:
                raise AssertionError(f"no message #{message_id} in {self.describe()}")
            stored = found
        if stored.chat is not self.chat:
            raise AssertionError(f"message #{stored.message_id} belongs to another chat")
        return stored

    def _press_target(self, message: Any, need_keyboard: bool) -> StoredMessage:
        if message is not None:
            target = self._resolve(message)
        else:
            candidates = [
                m for m in self.chat.bot_messages()
                if not m.deleted and (m.content.inline_markup or not need_keyboard)
            ]  # fmt: skip
            if not candidates:
                raise AssertionError(
                    f"no bot message with an inline keyboard in {self.describe()}\n"
                    f"{self.transcript()}"
                )
            target = candidates[-1]
        if target.deleted:
            raise AssertionError(
                f"message #{target.message_id} was deleted; its buttons cannot be pressed"
            )
        return target

    def _press(
        self,
        presser: UserRecord,
        button_text: str | None,
        callback_data: str | None,
        message: Any,
        stale_ok: bool,
    ) -> str:
        if button_text is None and callback_data is None:
            raise ValueError("press() needs button_text or callback_data")
        target = self._press_target(message, need_keyboard=True)
        button = _find_button(target, button_text, callback_data, stale_ok)
        if "callback_data" not in button:
            raise AssertionError(f"button {button['text']!r} has no callback_data: {button}")
        return self._send_callback(presser, target, button["callback_data"])

    def _send_callback(self, presser: UserRecord, target: StoredMessage, data: str) -> str:
        query = self.state.new_callback_query(presser, target, data)
        self.state.enqueue_update(
            "callback_query",
            {
                "id": query.id,
                "from": presser.to_json(),
                "chat_instance": chat_instance(self.chat.id),
                "data": data,
                "message": target.to_json(),
            },
        )
        return query.id


def _user_caption(caption: str | None) -> FormattedText | None:
    return FormattedText(raw=caption, text=caption) if caption else None


def _button_label(button: dict[str, Any]) -> str:
    return f"{button['text']!r}->{button.get('callback_data', button.get('url', '?'))!r}"


def _find_button(
    target: StoredMessage, text: str | None, data: str | None, stale_ok: bool
) -> dict[str, Any]:
    """Find a button by callback_data, exact text, substring, or case-insensitive substring."""
    markups = [target.content.reply_markup]
    if stale_ok:  # buttons the user's client may still show from before the edits
        markups += [edit.before.reply_markup for edit in reversed(target.edits)]
    unique: dict[tuple[str, Any], dict[str, Any]] = {}
    for markup in markups:
        for row in inline_buttons(markup):
            for button in row:
                unique.setdefault((button["text"], button.get("callback_data")), button)
    buttons = list(unique.values())
    if data is not None:
        matches = [b for b in buttons if b.get("callback_data") == data]
    else:
        assert text is not None
        matches = (
            [b for b in buttons if b["text"] == text]
            or [b for b in buttons if text in b["text"]]
            or [b for b in buttons if text.casefold() in b["text"].casefold()]
        )
    wanted = repr(data) if data is not None else repr(text)
    available = ", ".join(_button_label(b) for b in buttons) or "none"
    if not matches:
        raise AssertionError(
            f"no button {wanted} on message #{target.message_id}; buttons: {available}"
        )
    if len(matches) > 1:
        raise AssertionError(
            f"button {wanted} is ambiguous on message #{target.message_id}: {available}"
        )
    return matches[0]


def _transcript_lines(message: StoredMessage) -> list[str]:
    who = "bot" if message.from_bot else message.sender.display_name
    view = ContentView(message.content)
    body = view._describe_content()
    if message.content.kind == "contact" and message.content.contact:
        body = f"[contact {message.content.contact.get('phone_number')}]"
    mode = f", {view.parse_mode}" if message.from_bot and view.parse_mode else ""
    method = f" [{message.send_method}{mode}]" if message.send_method else ""
    reply = f" (reply to #{message.reply_to.message_id})" if message.reply_to else ""
    lines = [f"  #{message.message_id} {who}{method}{reply}: {body}"]
    lines.extend(
        f"      edited ({edit.method}): {ContentView(edit.after)._describe_content()}"
        for edit in message.edits
    )
    if message.deleted:
        lines.append("      (deleted)")
    return lines


# ---------------------------------------------------------------------------------------
# Private chats
# ---------------------------------------------------------------------------------------
class FakeUser(_ChatDriver):
    """A Telegram user in a private chat with the bot (chat id == user id)."""

    def __init__(self, api: FakeBotApi, user: UserRecord, chat: ChatRecord) -> None:
        super().__init__(api, chat)
        self.record = user
        self._hidden_keyboard_message_id: int | None = None

    # -- identity --------------------------------------------------------------------------
    @property
    def id(self) -> int:
        return self.record.id

    user_id = id

    @property
    def first_name(self) -> str:
        return self.record.first_name

    @property
    def username(self) -> str | None:
        return self.record.username

    @property
    def language_code(self) -> str | None:
        return self.record.language_code

    @property
    def phone_number(self) -> str | None:
        return self.record.phone_number

    def to_json(self) -> dict[str, Any]:
        return self.record.to_json()

    def __repr__(self) -> str:
        return f"<FakeUser {self.id} {self.record.display_name!r}>"

    # -- sending -----------------------------------------------------------------------------
    def _act(self) -> None:
        if self.chat.deactivated:
            raise RuntimeError(f"{self!r} deleted their account")
        if self.chat.blocked:
            raise RuntimeError(f"{self!r} has blocked the bot; call unblock() first")
        self.chat.started = True

    async def send_text(self, text: str) -> dict[str, Any]:
        """Type a text message; returns the Message dict the bot receives."""
        self._act()
        return self._post(self.record, MessageContent("text", text=user_text(text)))

    async def send_command(
        self, command: str, payload: str | None = None, *, with_username: bool = False
    ) -> dict[str, Any]:
        """``/start payload`` with a bot_command entity (``/start@bot`` if with_username)."""
        self._act()
        return self._post(self.record, self._command_content(command, payload, with_username))

    async def reply_to(self, message: Any, text: str) -> dict[str, Any]:
        """A text replying to ``message`` (BotMessage, Message dict or message id)."""
        self._act()
        target = self._resolve(message)
        return self._post(self.record, MessageContent("text", text=user_text(text)), target)

    async def share_contact(
        self,
        phone_number: str | None = None,
        own: bool = True,
        *,
        first_name: str | None = None,
    ) -> dict[str, Any]:
        """Share a contact; ``own=True`` is the user's own (``contact.user_id == user.id``).

        ``phone_number`` defaults to the user's number (as given to ``new_user``). Real
        clients sometimes send it without the leading ``+``; pass it that way to test it.
        """
        self._act()
        contact: dict[str, Any] = {
            "phone_number": phone_number or self.record.phone_number,
            "first_name": first_name or (self.record.first_name if own else "Max"),
            "user_id": self.id if own else self.id + 1_000_000,
        }
        if own and self.record.last_name and first_name is None:
            contact["last_name"] = self.record.last_name
        return self._post(self.record, MessageContent("contact", contact=contact))

    async def send_document(
        self,
        filename: str,
        data: bytes,
        mime_type: str | None = "text/csv",
        caption: str | None = None,
    ) -> dict[str, Any]:
        """Send a file; its bytes are then available to the bot via getFile + download."""
        self._act()
        return self._post(self.record, self._document_content(filename, data, mime_type, caption))

    async def send_photo(self, data: bytes, caption: str | None = None) -> dict[str, Any]:
        self._act()
        return self._post(self.record, self._photo_content(data, caption))

    async def send_voice(
        self, data: bytes = b"OggS voice", caption: str | None = None, duration: int = 4
    ) -> dict[str, Any]:
        """A voice message (recorded in the app: OGG/Opus)."""
        self._act()
        content = self._media_content(
            "voice", data, caption, mime_type="audio/ogg", duration=duration
        )
        return self._post(self.record, content)

    async def send_video(
        self,
        data: bytes = b"\0\0\0\x18ftypmp42 video",
        caption: str | None = None,
        duration: int = 8,
        width: int = 1280,
        height: int = 720,
        filename: str | None = "video.mp4",
    ) -> dict[str, Any]:
        self._act()
        content = self._media_content(
            "video", data, caption, filename=filename, mime_type="video/mp4",
            duration=duration, width=width, height=height,
        )  # fmt: skip
        return self._post(self.record, content)

    async def send_video_note(
        self, data: bytes = b"\0\0\0\x18ftypmp42 round", duration: int = 6, length: int = 384
    ) -> dict[str, Any]:
        """A round video message; it has no caption."""
        self._act()
        content = self._media_content(
            "video_note", data, duration=duration, width=length, height=length
        )
        return self._post(self.record, content)

    async def send_audio(
        self,
        data: bytes = b"ID3 audio",
        filename: str | None = "song.mp3",
        caption: str | None = None,
        duration: int = 180,
        performer: str | None = None,
        title: str | None = None,
    ) -> dict[str, Any]:
        """A music file (shown with a player, unlike a voice message)."""
        self._act()
        content = self._media_content(
            "audio", data, caption, filename=filename, mime_type="audio/mpeg",
            duration=duration, performer=performer, title=title,
        )  # fmt: skip
        return self._post(self.record, content)

    async def send_animation(
        self, data: bytes = b"\0\0\0\x18ftypmp42 gif", caption: str | None = None, duration: int = 2
    ) -> dict[str, Any]:
        """A GIF (Telegram converts them to silent MP4s; the update has a ``document`` too)."""
        self._act()
        content = self._media_content(
            "animation", data, caption, filename="animation.gif.mp4", mime_type="video/mp4",
            duration=duration, width=480, height=270,
        )  # fmt: skip
        return self._post(self.record, content)

    # -- buttons ---------------------------------------------------------------------------
    async def press(
        self,
        button_text: str | None = None,
        callback_data: str | None = None,
        message: Any = None,
        *,
        stale_ok: bool = False,
    ) -> str:
        """Press an inline button; returns the callback query id.

        Without ``message`` the newest bot message with an inline keyboard is used. Pass an
        older message to press its buttons again (double taps). ``stale_ok=True`` also finds
        buttons that were removed by an edit (the user's client had not refreshed yet).
        """
        self._act()
        return self._press(self.record, button_text, callback_data, message, stale_ok)

    async def press_forged(self, callback_data: str, message: Any = None) -> str:
        """Send arbitrary callback data for a bot message (modified client / forgery)."""
        self._act()
        target = self._press_target(message, need_keyboard=False)
        return self._send_callback(self.record, target, callback_data)

    async def next_callback_answer(self, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """Parameters of the bot's answerCallbackQuery for the next of this user's presses."""
        return await self._next_answer(lambda q: q.user.id == self.id, timeout)

    @property
    def reply_keyboard(self) -> dict[str, Any] | None:
        """The reply keyboard the user currently sees (markup dict) or None."""
        for message in reversed(self.chat.bot_messages()):
            markup = message.content.reply_markup or {}
            if "remove_keyboard" in markup:
                return None
            if "keyboard" in markup:
                hidden = message.message_id == self._hidden_keyboard_message_id
                return None if hidden else markup
        return None

    async def press_reply_button(self, text: str) -> dict[str, Any]:
        """Tap a reply-keyboard button: sends its text, or the contact for request_contact."""
        markup = self.reply_keyboard
        if markup is None:
            raise AssertionError(f"{self!r} sees no reply keyboard\n{self.transcript()}")
        buttons = [b for row in keyboard_buttons(markup) for b in row]
        matches = [b for b in buttons if b["text"] == text] or [
            b for b in buttons if text in b["text"]
        ]
        if len(matches) != 1:
            labels = [b["text"] for b in buttons]
            raise AssertionError(f"reply button {text!r} not found uniquely among {labels}")
        if markup.get("one_time_keyboard"):
            newest = [m for m in self.chat.bot_messages() if m.content.reply_markup is markup]
            self._hidden_keyboard_message_id = newest[-1].message_id if newest else None
        if matches[0].get("request_contact"):
            return await self.share_contact(own=True)
        return await self.send_text(matches[0]["text"])

    # -- relationship with the bot -------------------------------------------------------------
    async def block(self) -> dict[str, Any]:
        """Block the bot: my_chat_member update (member -> kicked); sends then get 403."""
        self.chat.blocked = True
        return self.state.my_chat_member_update(self.chat, self.record, "member", "kicked")

    async def unblock(self) -> dict[str, Any]:
        """Unblock the bot: my_chat_member update (kicked -> member)."""
        self.chat.blocked = False
        return self.state.my_chat_member_update(self.chat, self.record, "kicked", "member")

    async def deactivate(self) -> None:
        """Delete the account: sends get 403 "user is deactivated" (no update, like Telegram)."""
        self.chat.deactivated = True
        self.state.changed()


# ---------------------------------------------------------------------------------------
# Groups
# ---------------------------------------------------------------------------------------
class FakeGroup(_ChatDriver):
    """A group chat (by default a supergroup) in which FakeUsers write.

    Privacy mode (the default for bots, ``FakeBotApi(privacy_mode=True)``) applies unless
    the bot is an administrator: the bot only receives commands, replies to its own
    messages and messages mentioning it. Hidden messages land in
    ``api.state.swallowed_updates``.
    """

    @property
    def id(self) -> int:
        return self.chat.id

    @property
    def title(self) -> str | None:
        return self.chat.title

    def __repr__(self) -> str:
        return f"<FakeGroup {self.id} {self.title!r}>"

    def _member(self, user: FakeUser) -> UserRecord:
        if self.chat.deleted:
            raise RuntimeError(f"{self!r} was deleted")
        return user.record

    def add_member(self, user: FakeUser) -> None:
        """Put ``user`` into the group without posting (getChatMember then says "member").

        No update reaches the bot, as in a group where the bot cannot see join messages.
        """
        self.chat.members[user.id] = self._member(user)
        self.state.changed()

    def remove_member(self, user: FakeUser) -> None:
        """Take ``user`` out of the group silently (getChatMember then says "left")."""
        self.chat.members.pop(user.id, None)
        self.state.changed()

    # -- membership changes the bot hears of (chat_member updates) ----------------------------
    def change_member(self, user: FakeUser, status: str, by: FakeUser | None = None) -> dict[str, Any] | None:
        """``user``'s status in the group becomes ``status`` ("left", "kicked", "restricted",
        "member"), changed by ``by`` (an admin; None: the user themselves). Telegram reports it
        as a ``chat_member`` update, to bots that are administrators of the group and asked for
        such updates (allowed_updates); returns the update, or None when the bot gets none."""
        old = self.chat.member_status.get(user.id, "member") if user.id in self.chat.members else "left"
        if status in ("left", "kicked"):
            self.chat.members.pop(user.id, None)
            self.chat.member_status.pop(user.id, None)
        else:
            self.chat.members[user.id] = user.record
            self.chat.member_status[user.id] = status
        self.state.changed()
        if self.chat.bot_status != "administrator":
            return None
        return self.state.enqueue_update("chat_member", {
            "chat": self.chat.to_json(), "from": (by or user).record.to_json(), "date": self.state.unix_now(),
            "old_chat_member": chat_member_json(user.record, old),
            "new_chat_member": chat_member_json(user.record, status)})

    # -- becoming a supergroup ---------------------------------------------------------------
    async def migrate_to_supergroup(self, by: FakeUser, new_chat_id: int, *, tell_bot: bool = True) -> "FakeGroup":
        """The group becomes a supergroup with ``new_chat_id`` (same title, members and bot
        status). The old group gets a service message with ``migrate_to_chat_id``, the new one
        with ``migrate_from_chat_id`` (updates for the bot unless ``tell_bot`` is False: a bot
        that was down for longer than Telegram keeps updates never hears of them); from then on
        every call for the old id answers 400 "group chat was upgraded to a supergroup chat"
        with ``migrate_to_chat_id``."""
        new = self.state.add_group(self.chat.title or "", new_chat_id, "supergroup", None, self.chat.bot_status)
        new.members, new.member_status = dict(self.chat.members), dict(self.chat.member_status)
        moved = self.state.add_message(self.chat, by.record, MessageContent(
            "service", service={"migrate_to_chat_id": new_chat_id}))
        if tell_bot:
            self.state.enqueue_update("message", moved.to_json())
        self.chat.migrated_to = new_chat_id
        arrived = self.state.add_message(new, by.record, MessageContent(
            "service", service={"migrate_from_chat_id": self.chat.id}))
        if tell_bot:
            self.state.enqueue_update("message", arrived.to_json())
        return FakeGroup(self.api, new)

    async def send_text(self, user: FakeUser, text: str) -> dict[str, Any]:
        return self._post(self._member(user), MessageContent("text", text=user_text(text)))

    async def send_command(
        self,
        user: FakeUser,
        command: str,
        payload: str | None = None,
        *,
        with_username: bool = False,
    ) -> dict[str, Any]:
        content = self._command_content(command, payload, with_username)
        return self._post(self._member(user), content)

    async def reply_to(self, user: FakeUser, message: Any, text: str) -> dict[str, Any]:
        """``user`` replies to ``message`` (typically a bot message) in the group."""
        target = self._resolve(message)
        content = MessageContent("text", text=user_text(text))
        return self._post(self._member(user), content, target)

    async def reply_with_photo(self, user: FakeUser, message: Any, data: bytes,
                               caption: str | None = None) -> dict[str, Any]:
        """``user`` replies to ``message`` in the group with a photo (and a caption)."""
        return self._post(self._member(user), self._photo_content(data, caption), self._resolve(message))

    async def reply_with_document(self, user: FakeUser, message: Any, filename: str, data: bytes,
                                  mime_type: str | None = "application/pdf",
                                  caption: str | None = None) -> dict[str, Any]:
        """``user`` replies to ``message`` in the group with a file (and a caption)."""
        content = self._document_content(filename, data, mime_type, caption)
        return self._post(self._member(user), content, self._resolve(message))

    async def send_document(
        self,
        user: FakeUser,
        filename: str,
        data: bytes,
        mime_type: str | None = "text/csv",
        caption: str | None = None,
    ) -> dict[str, Any]:
        content = self._document_content(filename, data, mime_type, caption)
        return self._post(self._member(user), content)

    async def press(
        self,
        user: FakeUser,
        button_text: str | None = None,
        callback_data: str | None = None,
        message: Any = None,
        *,
        stale_ok: bool = False,
    ) -> str:
        """``user`` presses an inline button on a bot message in this group."""
        return self._press(self._member(user), button_text, callback_data, message, stale_ok)

    async def press_forged(self, user: FakeUser, callback_data: str, message: Any = None) -> str:
        target = self._press_target(message, need_keyboard=False)
        return self._send_callback(self._member(user), target, callback_data)

    async def next_callback_answer(self, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """The next answerCallbackQuery for presses made in this group (by anyone)."""
        return await self._next_answer(lambda q: q.chat_id == self.id, timeout)

    # -- membership of the bot -------------------------------------------------------------
    async def add_bot(self, by: FakeUser, *, as_admin: bool = False) -> dict[str, Any]:
        """``by`` adds the bot (my_chat_member update left -> member/administrator)."""
        old, self.chat.bot_status = self.chat.bot_status, "administrator" if as_admin else "member"
        return self.state.my_chat_member_update(self.chat, by.record, old, self.chat.bot_status)

    async def kick_bot(self, by: FakeUser) -> dict[str, Any]:
        """``by`` removes the bot; sends then get 403 "bot was kicked from the ... chat"."""
        old, self.chat.bot_status = self.chat.bot_status, "kicked"
        return self.state.my_chat_member_update(self.chat, by.record, old, "kicked")

    async def delete(self) -> None:
        """The group is deleted: calls for it answer 400 "chat not found"."""
        self.chat.deleted = True
        self.state.changed()
