"""A fake Telegram Bot API server speaking the real HTTP protocol on 127.0.0.1.

Usage::

    async with FakeBotApi(token="123456:TEST", bot_username="morgenrot_bot") as api:
        # start the bot with TELEGRAM_API_BASE_URL=api.base_url (and api.base_file_url)
        await api.wait_until_polling()
        anna = api.new_user("Anna")
        await anna.send_command("/start")
        reply = await anna.next_message()

Routes (as Telegram's):

* ``/bot<token>/<method>`` — GET or POST; parameters from the query string, form data,
  multipart uploads or a JSON body. Wrong token -> 401, unknown method -> 404.
* ``/file/bot<token>/<file_path>`` — downloads of files returned by getFile.

Request pipeline (:meth:`FakeBotApi._execute`): token check -> method lookup ->
injected errors -> random errors -> flood limits -> method -> latency. Every call is recorded
in ``api.state.calls`` (see :meth:`FakeBotApi.calls`) and counted by method and status in
``api.counts`` (cheap to read in ``wait_until`` predicates of long runs); ``api.in_flight`` /
``api.max_in_flight`` count requests per method from arrival to response.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .driver import BotMessage, FakeGroup, FakeUser
from .errors import ApiError, method_not_found, unauthorized
from .faults import SEND_METHODS, ArrivalJitter, ErrorInjector, LatencyPolicy, RandomErrors, RateLimiter
from .formatting import TextOptions
from .methods import BotApiMethods
from .models import ApiCall
from .params import read_request
from .webhooks import WebhookDeliverer
from .state import BotState

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"
MAX_REQUEST_BYTES = 60 * 1024 * 1024


class FakeBotApi:
    """The fake server plus the handles tests use to script and inspect it."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "morgenrot_bot",
        *,
        bot_first_name: str = "Morgenrot",
        privacy_mode: bool = True,
        strict_html_ampersand: bool = True,
        callback_query_timeout: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.host = host
        self._requested_port = port
        self.clock = clock
        self.state = BotState(
            token=token,
            bot_username=bot_username,
            bot_first_name=bot_first_name,
            privacy_mode=privacy_mode,
            clock=clock,
            callback_query_timeout=callback_query_timeout,
        )
        options = TextOptions(
            strict_ampersand=strict_html_ampersand, resolve_user=self.state.resolve_user
        )
        self.methods = BotApiMethods(self.state, options)
        self.errors = ErrorInjector()
        self.random_errors: RandomErrors | None = None
        self.arrival_jitter: ArrivalJitter | None = None
        self.latency = LatencyPolicy()
        self.rate_limiter: RateLimiter | None = None
        self.counts: Counter[tuple[str, int | None]] = Counter()  # (method, status) -> calls
        self.in_flight: Counter[str] = Counter()  # method -> requests being answered now
        self.max_in_flight: Counter[str] = Counter()  # method -> the most at once
        self.polls_started = 0  # getUpdates calls begun (a long poll completes much later)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self.webhook_delivery: WebhookDeliverer | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> FakeBotApi:
        self.methods.closing = False
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._requested_port)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    def route_webhooks_to(self, origin: str) -> WebhookDeliverer:
        """Deliver updates to a webhook the bot sets, at ``origin`` (e.g. its local listener
        ``http://127.0.0.1:8443``) instead of the public HTTPS host it registers."""
        self.webhook_delivery = WebhookDeliverer(self.state, origin)
        self.webhook_delivery.start()
        return self.webhook_delivery

    async def stop(self) -> None:
        if self.webhook_delivery is not None:
            await self.webhook_delivery.stop()
        self.methods.shutdown()  # releases pending long polls
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeBotApi is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """For ``Bot(base_url=...)`` / ``TELEGRAM_API_BASE_URL``: ``http://127.0.0.1:PORT/bot``."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def bot_user(self) -> dict[str, Any]:
        return self.state.bot.to_json()

    # -- HTTP handlers ------------------------------------------------------------------------
    async def _handle_method(self, request: web.Request) -> web.Response:
        raw_method = request.match_info["method"]
        canonical = self.methods.canonical_name(raw_method) or raw_method
        call = self.state.begin_call(canonical, raw_method)
        self.in_flight[canonical] += 1
        self.max_in_flight[canonical] = max(self.max_in_flight[canonical], self.in_flight[canonical])
        try:
            try:
                status, payload = await self._process(request, call)
            except asyncio.CancelledError:  # the client went away (e.g. a cancelled long poll)
                self.counts[canonical, None] += 1
                self.state.finish_call(call, None, None)
                raise
            self.counts[canonical, status] += 1
            self.state.finish_call(call, status, payload)
            delay = self.latency.delay_for(raw_method.lower(), call.chat_id)
            if delay:
                await asyncio.sleep(delay)  # simulated network latency, after the effect
            return web.json_response(payload, status=status)
        finally:
            self.in_flight[canonical] -= 1

    async def _process(self, request: web.Request, call: ApiCall) -> tuple[int, dict[str, Any]]:
        try:
            call.params, call.files = await read_request(request)
            if self.arrival_jitter is not None:
                late = self.arrival_jitter.delay_for(call.raw_method.lower())
                if late:
                    await asyncio.sleep(late)  # simulated late arrival, before anything counts it
                    call.time = self.clock()
            result = await self._execute(request.match_info["token"], call)
        except ApiError as error:
            return error.status, error.to_json()
        return 200, {"ok": True, "result": result}

    async def _execute(self, token: str, call: ApiCall) -> Any:
        if token != self.token:
            raise unauthorized()
        method = call.raw_method.lower()
        if self.methods.canonical_name(method) is None:
            raise method_not_found()
        if method == "getupdates":
            self.polls_started += 1
            self.state.changed()
        injected = self.errors.take(method, call.chat_id)
        if injected is not None:
            raise injected
        if self.random_errors is not None:
            chance = self.random_errors.take(method)
            if chance is not None:
                raise chance
        limited_chat = self._flood_check(method, call.chat_id)
        result = await self.methods.call(method, call.params, call.files)
        if limited_chat is not None and self.rate_limiter is not None:
            self.rate_limiter.record(*limited_chat)
        return result

    def _flood_check(self, method: str, chat_id: Any) -> tuple[Any, bool] | None:
        """Raise 429 if a send exceeds the limits; return the window key to record."""
        if self.rate_limiter is None or method not in SEND_METHODS or chat_id is None:
            return None
        chat = self.state.find_chat(chat_id)
        is_group = bool(chat and chat.is_group) or (isinstance(chat_id, int) and chat_id < 0)
        error = self.rate_limiter.check(chat_id, is_group)
        if error is not None:
            raise error
        return chat_id, is_group

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(unauthorized().to_json(), status=401)
        path = request.match_info["file_path"]
        stored = self.state.files_by_path.get(path)
        if stored is None or stored.data is None:
            missing = {"ok": False, "error_code": 404, "description": "Not Found"}
            return web.json_response(missing, status=404)
        self.state.file_downloads.append(path)
        self.state.changed()
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # -- users and groups (see driver.py) -----------------------------------------------------
    def new_user(
        self,
        first_name: str = "Anna",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "de",
        user_id: int | None = None,
        *,
        phone_number: str | None = None,
        started: bool = True,
    ) -> FakeUser:
        """A user with a private chat (chat id == user id).

        ``started=False``: the user never wrote to the bot, so the bot's sends get 403
        "bot can't initiate conversation with a user" until the user sends something.
        """
        user, chat = self.state.add_user(
            first_name, last_name, username, language_code, user_id, phone_number, started
        )
        return FakeUser(self, user, chat)

    def new_group(
        self,
        title: str = "Team Morgenrot",
        chat_id: int | None = None,
        *,
        chat_type: str = "supergroup",
        username: str | None = None,
        bot_is_admin: bool = False,
    ) -> FakeGroup:
        """A group the bot is already a member (or administrator) of; negative chat id."""
        status = "administrator" if bot_is_admin else "member"
        chat = self.state.add_group(title, chat_id, chat_type, username, status)
        return FakeGroup(self, chat)

    # -- failure injection ---------------------------------------------------------------------
    def inject_error(
        self,
        method: str | None,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``None``/``"*"``: any) fail.

        429 answers carry ``parameters.retry_after`` (default 1); 500/502 use Telegram's
        "Internal Server Error"/"Bad Gateway". ``chat_id`` restricts to calls for that chat.
        """
        self.errors.add(method, status, description, retry_after, chat_id, times)

    def clear_injected_errors(self) -> None:
        self.errors.clear()

    def inject_random_errors(
        self,
        probability: float,
        status: int = 429,
        retry_after: int | None = 1,
        methods: list[str] | None = None,
        seed: int | None = 0,
    ) -> RandomErrors:
        """Make each send (or each call of ``methods``) fail with ``probability``, e.g.
        ``inject_random_errors(0.002)`` for occasional 429s with ``retry_after`` 1. The same
        seed gives the same sequence of failures for the same sequence of calls;
        ``probability=0`` turns it off. ``api.random_errors.given`` counts them."""
        names = SEND_METHODS if methods is None else frozenset(m.lower() for m in methods)
        self.random_errors = RandomErrors(probability, status, retry_after, names, seed) if probability else None
        return self.random_errors

    def set_arrival_jitter(self, max_seconds: float, methods: list[str] | None = None, seed: int | None = 0) -> None:
        """Let requests (sends, or ``methods``) arrive late by a random 0..max_seconds before
        anything happens (0 turns it off): client-side pacing alone then meets the flood limits."""
        names = SEND_METHODS if methods is None else frozenset(m.lower() for m in methods)
        self.arrival_jitter = ArrivalJitter(max_seconds, names, seed) if max_seconds else None

    def count(self, method: str, status: int | None = 200) -> int:
        """How many calls of ``method`` were answered with ``status`` (O(1), unlike calls())."""
        canonical = self.methods.canonical_name(method.lower()) or method
        return self.counts[canonical, status]

    def set_latency(
        self, seconds: float, methods: list[str] | None = None, chat_id: int | str | None = None
    ) -> None:
        """Delay responses by ``seconds`` (0 disables). The call still takes effect first.

        ``methods=None`` delays every method except getUpdates; ``chat_id`` only calls for
        that chat (e.g. a timeout for one recipient while the others are answered at once).
        """
        self.latency.set(seconds, methods, chat_id)

    def enforce_rate_limits(
        self,
        global_per_second: int = 30,
        per_chat_per_second: int = 1,
        per_group_per_minute: int = 20,
    ) -> RateLimiter:
        """Answer sends beyond Telegram's flood limits with 429 + retry_after."""
        self.rate_limiter = RateLimiter(
            self.clock, global_per_second, per_chat_per_second, per_group_per_minute
        )
        return self.rate_limiter

    def disable_rate_limits(self) -> None:
        self.rate_limiter = None

    @property
    def rate_limit_hits(self) -> int:
        """How many 429s the rate-limit mode has given (injected 429s not included)."""
        return self.rate_limiter.hits if self.rate_limiter else 0

    def rate_limit_hits_for(self, chat_id: int | str) -> int:
        return self.rate_limiter.hits_by_chat[chat_id] if self.rate_limiter else 0

    # -- inspection ---------------------------------------------------------------------------
    def calls(
        self,
        method: str | None = None,
        chat_id: int | str | None = None,
        status: int | None = None,
    ) -> list[ApiCall]:
        """Recorded calls, oldest first; filters are case-insensitive for the method."""
        wanted = method.lower() if method else None
        return [
            c for c in self.state.calls
            if (wanted is None or c.method.lower() == wanted)
            and (chat_id is None or c.chat_id == chat_id)
            and (status is None or c.status == status)
        ]  # fmt: skip

    def mark(self) -> int:
        """A position in the call log, for ``wait_for_call(since=...)``."""
        return len(self.state.calls)

    def sent_messages(self, chat_id: int | None = None) -> list[BotMessage]:
        """Everything the bot sent (texts, photos, documents), in their current state."""
        sent = self.state.bot_messages
        return [BotMessage(m) for m in sent if chat_id is None or m.chat.id == chat_id]

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        """Commands stored by setMyCommands for ``scope`` (default scope) and language."""
        return self.state.commands.get((self.state.scope_key(scope), language_code), [])

    @property
    def webhook_url(self) -> str | None:
        return self.state.webhook["url"] if self.state.webhook else None

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (via a later getUpdates offset)."""
        return list(self.state.updates)

    # -- waiting (no sleeps) ------------------------------------------------------------------
    async def wait_until(
        self, predicate: Callable[[], Any], timeout: float = 10.0, description: str = "condition"
    ) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked on every state change)."""
        try:
            return await self.state.notifier.wait_for(predicate, timeout)
        except TimeoutError:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {description}\n{self.describe_calls()}"
            ) from None

    async def wait_until_polling(self, timeout: float = 10.0, after: int = 0) -> None:
        """Return once the bot has begun a getUpdates call (i.e. it is up and polling); with
        ``after=api.polls_started`` taken earlier, only a call begun since then counts."""
        await self.wait_until(lambda: self.polls_started > after, timeout, "the bot to call getUpdates")

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = 10.0,
        since: int = 0,
    ) -> ApiCall:
        """The first *completed* call of ``method`` at or after ``since`` matching ``predicate``.

        Calls made before the wait started count too (use ``since=api.mark()`` taken
        before the triggering action to ignore older ones).
        """
        wanted = method.lower()

        def find() -> ApiCall | None:
            for call in self.state.calls[since:]:
                if (
                    call.status is not None
                    and call.method.lower() == wanted
                    and (predicate is None or predicate(call))
                ):
                    return call
            return None

        return await self.wait_until(find, timeout, f"a {method} call")

    def describe_calls(self, last: int = 25) -> str:
        recent = [c for c in self.state.calls if c.method != "getUpdates"][-last:]
        return "recent API calls (without getUpdates):\n" + "\n".join(
            f"  {call!r}" for call in recent
        )
