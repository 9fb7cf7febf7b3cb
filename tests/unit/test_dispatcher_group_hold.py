"""The dispatcher holds a staff group whose minute is full, so its rows wait in the database
(where the next claim takes the most urgent) rather than in the rate limiter."""

import asyncio
from collections import deque
from types import SimpleNamespace

from bot import dispatcher, rate_limiter
from bot.dispatcher import OutboxDispatcher

GROUP, CUSTOMER = -100500, 4242


def make() -> OutboxDispatcher:
    services = SimpleNamespace(settings=SimpleNamespace(max_messages_per_second=30.0))
    return OutboxDispatcher(services, bot=None, hooks=None)


def test_a_group_is_held_once_it_had_its_messages_of_the_minute():
    async def scenario():
        sender = make()
        loop = asyncio.get_running_loop()
        start = loop.time()
        for _ in range(rate_limiter.GROUP_MESSAGES_PER_MINUTE - 1):
            sender._answered(GROUP)
            sender._answered(CUSTOMER)
        assert GROUP not in sender._holds and CUSTOMER not in sender._holds
        sender._answered(GROUP)  # the 20th of the minute
        until = sender._holds[GROUP]
        assert start + dispatcher.GROUP_WINDOW_SECONDS <= until <= loop.time() + dispatcher.GROUP_WINDOW_SECONDS
        assert CUSTOMER not in sender._holds  # private chats have no such limit

    asyncio.run(scenario())


def test_sends_older_than_a_minute_do_not_count():
    async def scenario():
        sender = make()
        now = asyncio.get_running_loop().time()
        sender._group_sends[GROUP] = deque(
            [now - 120.0] * rate_limiter.GROUP_MESSAGES_PER_MINUTE)
        sender._answered(GROUP)
        assert GROUP not in sender._holds and len(sender._group_sends[GROUP]) == 1

    asyncio.run(scenario())
