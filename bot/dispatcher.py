"""The outbox dispatcher: the one place that sends proactive messages.

It claims due rows, renders each in its recipient's language, sends it and records the
outcome: sent, retried later (429, 5xx, timeouts), or failed (blocked bot, deleted chat,
rejected message). A claimed row is leased to its dispatcher; rows of a process that died
mid-send go back to pending when the lease runs out, so a restart sends every row, and at most
the one in flight twice. Claims skip rows another dispatcher holds, so replicas on PostgreSQL
never send the same row twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram import ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot import keyboards
from bot.chat import send_html
from bot.services import Services
from domain import customers, marketing, outbox, tickets
from domain.outbox import MessageSpec
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # picks up rows queued by other processes or due later
BATCH = 20
GONE_CHAT_ERRORS = ("chat not found", "user is deactivated", "bot was blocked", "bot was kicked")


class OutboxDispatcher:
    def __init__(self, services: Services, bot):
        self.services = services
        self.bot = bot
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        s = self.services
        while True:
            try:
                s.outbox_wakeup.clear()
                sent = await self.dispatch_due()
            except Exception:
                log.exception("outbox dispatch failed; retrying")
                sent = 0
            if not sent:
                try:
                    await asyncio.wait_for(s.outbox_wakeup.wait(), POLL_SECONDS)
                except asyncio.TimeoutError:
                    pass

    async def dispatch_due(self) -> int:
        """Send one batch of due rows; return how many were handled."""
        released = await self.services.db(outbox.release_expired_claims, self.services.now())
        if released:
            log.info("outbox rows of a stopped dispatcher resumed", extra={"rows": released})
        rows = await self.services.db(outbox.claim_due, self.services.now(), BATCH)
        for row in rows:
            await self._deliver(row)
        return len(rows)

    async def _render(self, row: OutboxMessage, spec: MessageSpec) -> tuple[str, object]:
        s = self.services
        if row.category == outbox.STAFF or row.customer_id is None:
            voice = s.staff_voice
        else:
            voice = s.voice(await s.db(customers.preferred_language, row.customer_id, s.config.shop.language))
        text = spec.text if spec.template is None else s.texts.render(spec.template, voice, **spec.params)
        return text, keyboards.from_spec(spec.buttons, s.texts, voice)

    async def _deliver(self, row: OutboxMessage) -> None:
        s = self.services
        context = {"outbox_id": row.id, "chat_id": row.chat_id, "category": row.category}
        if row.category == outbox.MARKETING:  # consent, quiet hours and the weekly cap, checked now
            verdict = await s.db(marketing.admit, row.id, s.marketing_rules, s.now())
            if verdict is not marketing.Verdict.SEND:
                log.info("marketing message not sent now", extra=context | {"verdict": verdict.value})
                return
        try:
            message = await self._send(row)
        except RetryAfter as error:
            delay = error.retry_after if isinstance(error.retry_after, timedelta) else timedelta(seconds=error.retry_after)
            await s.db(outbox.mark_retry, row.id, f"429 retry after {delay}", s.now(), delay)
            log.warning("outbox send rate-limited", extra=context | {"retry_after_s": delay.total_seconds()})
        except Forbidden as error:
            await self._give_up_on_chat(row, str(error), context)
        except BadRequest as error:
            if any(reason in str(error).lower() for reason in GONE_CHAT_ERRORS):
                await self._give_up_on_chat(row, str(error), context)
            else:
                await s.db(outbox.mark_failed, row.id, f"rejected: {error}")
                log.error("outbox message rejected by Telegram", extra=context | {"error": str(error)})
        except (TimedOut, NetworkError) as error:
            status = await s.db(outbox.mark_retry, row.id, f"{type(error).__name__}: {error}", s.now())
            log.warning("outbox send failed; will retry", extra=context | {"error": str(error), "status": status})
        except Exception as error:  # a rendering bug must not stop the other rows
            await s.db(outbox.mark_failed, row.id, f"{type(error).__name__}: {error}")
            log.exception("outbox row could not be sent", extra=context)
        else:
            await s.db(outbox.mark_sent, row.id, message.message_id, s.now())
            log.info("outbox message sent", extra=context)

    async def _send(self, row: OutboxMessage):
        spec = MessageSpec.from_payload(row.payload)
        text, keyboard = await self._render(row, spec)
        extra = {}
        if spec.reply_to_key:  # keep a thread together (a ticket's messages under its alert)
            reply_to = await self.services.db(outbox.sent_message_id, spec.reply_to_key)
            if reply_to is not None:
                extra["reply_parameters"] = ReplyParameters(reply_to, allow_sending_without_reply=True)
        if spec.photo:
            return await self.bot.send_photo(row.chat_id, spec.photo, caption=text or None,
                                             parse_mode=ParseMode.HTML, reply_markup=keyboard, **extra)
        return await send_html(self.bot, row.chat_id, text, keyboard, **extra)

    async def _give_up_on_chat(self, row: OutboxMessage, reason: str, context: dict) -> None:
        s = self.services
        await s.db(outbox.mark_failed, row.id, f"unreachable: {reason}")
        await s.db(customers.mark_unreachable, row.chat_id, s.now())
        if await s.db(tickets.note_undeliverable, row.idempotency_key, s.ticket_rules, s.now()):
            s.outbox_changed()  # the team hears of it in the ticket's thread
        log.info("outbox recipient unreachable", extra=context | {"reason": reason})
