"""A fast layer for the handlers: the real PTB Application with the real wiring table
(``bot.app.handlers``), the real use cases on a SQLite file, but no Telegram server and no Rasa:
requests to Telegram are answered in process (``FakeTelegram``) and the NLU says what a test
tells it. Updates go through ``Application.process_update`` as they would from polling.

The end-to-end tests (tests/e2e) cover the same paths with the real Bot API over HTTP and the
real Rasa server; this layer checks the tables themselves - which step and intent reach which
handler, who may use which command - and how many transactions a message costs.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from telegram import Update
from telegram.ext import ApplicationBuilder
from telegram.request import BaseRequest, RequestData

from bot.app import handlers
from bot.services import Services
from bot.settings import Settings
from bot.texts import Texts
from domain.config import load_config
from nlu.client import ParseResult
from nlu.faq import load_catalog
from storage.db import Store
from tests.fakebotapi.html_parser import HtmlParseError, parse_html

BOT_ID = 4242
STAFF_CHAT_ID = -1009999
ADMIN_ID = 700
CONFIG = Path(__file__).resolve().parents[2] / "config.yml"


class FakeTelegram(BaseRequest):
    """Answers the Bot API in process and records every call as ``(method, parameters)``."""

    def __init__(self):
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._message_ids = itertools.count(1000)

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout=None, write_timeout=None, connect_timeout=None, pool_timeout=None):
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data is not None else {}
        self.calls.append((name, params))
        if params.get("parse_mode") == "HTML":  # Telegram refuses HTML it cannot parse, so do we
            try:
                parse_html(params.get("text") or params.get("caption") or "")
            except HtmlParseError as error:
                return 400, json.dumps({"ok": False, "error_code": 400,
                                        "description": f"Bad Request: can't parse entities: {error}"}).encode()
        return 200, json.dumps({"ok": True, "result": self._result(name, params)}).encode()

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "Morgenrot", "username": "morgenrot_bot",
                    "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
        if name == "getChatMember":  # nobody but the admins is in the staff group here
            return {"status": "left", "user": {"id": int(params["user_id"]), "is_bot": False, "first_name": "X"}}
        if name.startswith("send"):
            chat_id = int(params["chat_id"])
            return {"message_id": next(self._message_ids), "date": 0,
                    "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                    "text": params.get("text") or params.get("caption") or ""}
        return True

    def sent(self, chat_id: int) -> list[str]:
        """The texts (and captions) of the messages sent to a chat, in order."""
        return [params.get("text") or params.get("caption") or "" for name, params in self.calls
                if name.startswith("send") and int(params.get("chat_id", 0)) == chat_id]

    def toasts(self) -> list[str]:
        return [params.get("text", "") for name, params in self.calls if name == "answerCallbackQuery"]


@dataclass
class FakeNlu:
    """What the "NLU" understands: the result for a text, else the fallback."""

    understood: dict[str, ParseResult] = field(default_factory=dict)

    async def parse(self, text: str) -> ParseResult:
        return self.understood.get(text, ParseResult("nlu_fallback", 0.2))

    async def aclose(self) -> None:
        pass


class FixedClock:
    def __init__(self, now: datetime):
        self.moment = now

    def now(self) -> datetime:
        return self.moment


@dataclass
class Transactions:
    count: int = 0


class Chat:
    """Builds updates as Telegram would send them, and hands them to the application."""

    def __init__(self, application, bot):
        self.application, self.bot = application, bot
        self._ids = itertools.count(1)

    async def send(self, user_id: int, text: str, chat_id: int | None = None, first_name: str = "Lena",
                   **extra: Any) -> None:
        chat_id = chat_id if chat_id is not None else user_id
        message = {"message_id": next(self._ids), "date": 0, "text": text,
                   "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                   "from": {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "de"}, **extra}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        await self._process({"update_id": next(self._ids), "message": message})

    async def sticker(self, user_id: int) -> None:
        message = {"message_id": next(self._ids), "date": 0, "chat": {"id": user_id, "type": "private"},
                   "from": {"id": user_id, "is_bot": False, "first_name": "Lena", "language_code": "de"},
                   "sticker": {"file_id": "s1", "file_unique_id": "s1", "type": "regular", "width": 1, "height": 1,
                               "is_animated": False, "is_video": False}}
        await self._process({"update_id": next(self._ids), "message": message})

    async def media(self, user_id: int, kind: str, caption: str | None = None, *, file_id: str | None = None,
                    chat_id: int | None = None, first_name: str = "Lena", **extra: Any) -> None:
        """A photo, voice message, video note, file ... (``kind``, named like Telegram's Message
        field), with the fields Telegram sends for it; a GIF carries a ``document`` too."""
        chat_id = chat_id if chat_id is not None else user_id
        file_id = file_id or f"{kind}-{next(self._ids)}"
        media = {"file_id": file_id, "file_unique_id": f"u-{file_id}"}
        fields = {"photo": [{**media, "width": 800, "height": 600}],
                  "voice": {**media, "duration": 4, "mime_type": "audio/ogg"},
                  "video_note": {**media, "length": 240, "duration": 6},
                  "video": {**media, "width": 640, "height": 360, "duration": 9},
                  "audio": {**media, "duration": 180, "title": "Song"},
                  "animation": {**media, "width": 320, "height": 240, "duration": 2},
                  "document": {**media, "file_name": "bon.pdf", "mime_type": "application/pdf"}}
        content = {kind: fields[kind]}
        if kind == "animation":
            content["document"] = {**media, "file_name": "lol.mp4", "mime_type": "video/mp4"}
        message = {"message_id": next(self._ids), "date": 0,
                   "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                   "from": {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "de"},
                   **content, **({"caption": caption} if caption else {}), **extra}
        await self._process({"update_id": next(self._ids), "message": message})

    async def press(self, user_id: int, data: str, chat_id: int | None = None) -> None:
        chat_id = chat_id if chat_id is not None else user_id
        message = {"message_id": next(self._ids), "date": 0, "text": "…",
                   "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}}
        query = {"id": str(next(self._ids)), "chat_instance": "1", "data": data, "message": message,
                 "from": {"id": user_id, "is_bot": False, "first_name": "Lena", "language_code": "de"}}
        await self._process({"update_id": next(self._ids), "callback_query": query})

    async def _process(self, payload: dict) -> None:
        await self.application.process_update(Update.de_json(payload, self.bot))


@pytest.fixture
async def shop(tmp_path):
    """The application with the real wiring, a fresh SQLite database and fakes for Telegram and NLU."""
    telegram, nlu = FakeTelegram(), FakeNlu()
    store = Store(f"sqlite:///{tmp_path / 'stammgast.db'}")
    store.migrate()
    transactions = Transactions()

    def count(_connection) -> None:
        transactions.count += 1

    event.listen(store.engine, "begin", count)
    config = load_config(CONFIG).with_overrides((ADMIN_ID,), STAFF_CHAT_ID)
    services = Services(settings=Settings(TELEGRAM_BOT_TOKEN="123:abc"), config=config, store=store,
                        texts=Texts(config.shop.name, None, config.shop.timezone), faq=load_catalog(),
                        clock=FixedClock(datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)), nlu=nlu)
    application = ApplicationBuilder().token("123:abc").request(telegram).get_updates_request(telegram).build()
    application.bot_data["services"] = services
    application.add_handlers(handlers(STAFF_CHAT_ID))
    errors: list[BaseException] = []

    async def keep_error(update, context) -> None:
        errors.append(context.error)

    application.add_error_handler(keep_error)
    await application.initialize()
    yield Shop(application, services, telegram, nlu, transactions, Chat(application, application.bot), errors)
    await application.shutdown()
    store.dispose()


@dataclass
class Shop:
    application: Any
    services: Services
    telegram: FakeTelegram
    nlu: FakeNlu
    transactions: Transactions
    chat: Chat
    errors: list

    def text(self, key: str, **params: Any) -> str:
        """A text as a German customer (or the staff) reads it."""
        return self.services.texts.render(key, self.services.voice("de"), **params)
