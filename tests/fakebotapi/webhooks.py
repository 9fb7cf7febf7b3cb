"""Webhook delivery: while a webhook is set, updates are POSTed to it instead of being
handed out by getUpdates, one at a time and in order, as Telegram does.

Telegram only calls HTTPS URLs; a bot in production sits behind a reverse proxy. Tests
play that proxy with ``route_to``: the registered URL's scheme and host are replaced by
the bot's local listener, the path is kept.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from .state import BotState

RETRY_SECONDS = 0.2  # Telegram retries a failed delivery later; the fake a little sooner


class WebhookDeliverer:
    def __init__(self, state: BotState, origin: str):
        self.state = state
        self.origin = urlsplit(origin)
        self.deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status)
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="fake-webhook-delivery")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _target(self) -> str:
        registered = urlsplit(self.state.webhook["url"])
        return urlunsplit((self.origin.scheme, self.origin.netloc, registered.path, registered.query, ""))

    async def _run(self) -> None:
        async with aiohttp.ClientSession() as http:
            while True:
                await self.state.notifier.wait_for(lambda: self.state.webhook and self.state.updates, None)
                update = self.state.updates[0]
                headers = {}
                if self.state.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.state.webhook["secret_token"]
                try:
                    async with http.post(self._target(), json=update, headers=headers) as response:
                        status = response.status
                except aiohttp.ClientError:
                    status = 0
                self.deliveries.append((update["update_id"], status))
                if status == 200:
                    self.state.confirm_updates(update["update_id"] + 1)
                    self.state.changed()
                else:
                    await asyncio.sleep(RETRY_SECONDS)
