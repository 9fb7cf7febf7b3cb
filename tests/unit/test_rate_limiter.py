"""The rate limiter's per-chat pacing and its handling of Telegram's 429."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from telegram.error import RetryAfter

from bot.rate_limiter import BACKGROUND, REPLY, PriorityTurn, TelegramRateLimiter, raise_refusals_at_once


class Telegram:
    """Answers requests, refusing the first ``refusals`` with a short 429."""

    def __init__(self, refusals: int = 0):
        self.refusals = refusals
        self.started: list[tuple[int, float]] = []

    async def send(self, chat_id: int) -> bool:
        self.started.append((chat_id, asyncio.get_running_loop().time()))
        if self.refusals:
            self.refusals -= 1
            raise RetryAfter(timedelta(milliseconds=20))
        return True


async def send(limiter: TelegramRateLimiter, telegram: Telegram, chat_id: int, endpoint: str = "sendMessage"):
    return await limiter.process_request(telegram.send, (chat_id,), {}, endpoint, {"chat_id": chat_id}, None)


async def test_messages_to_one_private_chat_go_a_second_apart():
    limiter, telegram = TelegramRateLimiter(), Telegram()
    await asyncio.gather(*(send(limiter, telegram, 42) for _ in range(3)))
    starts = [moment for _, moment in telegram.started]
    assert starts[1] - starts[0] >= 1.0 and starts[2] - starts[1] >= 1.0


async def test_other_chats_and_edits_do_not_wait_for_a_busy_chat():
    limiter, telegram = TelegramRateLimiter(), Telegram()
    await send(limiter, telegram, 42)
    other = asyncio.create_task(send(limiter, telegram, 43))
    edit = asyncio.create_task(send(limiter, telegram, 42, "editMessageText"))
    await asyncio.gather(other, edit)
    first = telegram.started[0][1]
    assert all(moment - first < 1.0 for _, moment in telegram.started[1:])


async def test_a_refused_reply_is_sent_again_after_the_wait():
    limiter, telegram = TelegramRateLimiter(), Telegram(refusals=1)
    assert await send(limiter, telegram, 42) is True
    assert len(telegram.started) == 2


async def test_a_reply_refused_again_and_again_fails_in_the_end():
    limiter, telegram = TelegramRateLimiter(), Telegram(refusals=10)
    with pytest.raises(RetryAfter):
        await send(limiter, telegram, 42)
    assert len(telegram.started) == 3  # the first try and two more


async def test_the_dispatcher_gets_its_refusals_at_once():
    limiter, telegram = TelegramRateLimiter(), Telegram(refusals=1)

    async def dispatcher_send() -> None:
        raise_refusals_at_once()
        await send(limiter, telegram, 42)

    with pytest.raises(RetryAfter):
        await asyncio.create_task(dispatcher_send())
    assert len(telegram.started) == 1
    assert await send(limiter, telegram, 42) is True  # other tasks still retry


async def background_send(limiter: TelegramRateLimiter, telegram: Telegram, chat_id: int):
    raise_refusals_at_once()  # as the dispatcher's senders do (the context stays in this task)
    return await send(limiter, telegram, chat_id)


async def test_a_reply_goes_before_background_sends_already_waiting():
    limiter, telegram = TelegramRateLimiter(messages_per_second=5), Telegram()
    broadcast = [asyncio.create_task(background_send(limiter, telegram, 100 + n)) for n in range(8)]
    while len(telegram.started) < 2:  # the broadcast is under way and the rest wait their turn
        await asyncio.sleep(0)
    started_before = len(telegram.started)
    await send(limiter, telegram, 42)
    await asyncio.gather(*broadcast)
    order = [chat for chat, _ in telegram.started]
    # Behind at most the one send holding the turn, not behind the whole queue.
    assert order.index(42) <= started_before + 1 < len(order) - 2, order


async def test_a_waiter_cancelled_in_the_queue_does_not_block_the_others():
    turn = PriorityTurn()
    await turn.acquire(BACKGROUND)
    gone = asyncio.create_task(turn.acquire(REPLY))
    later = asyncio.create_task(turn.acquire(BACKGROUND))
    await asyncio.sleep(0)
    gone.cancel()
    turn.release()
    await asyncio.wait_for(later, timeout=5)
    assert gone.cancelled()
    turn.release()
    await asyncio.wait_for(turn.acquire(REPLY), timeout=5)  # free again
