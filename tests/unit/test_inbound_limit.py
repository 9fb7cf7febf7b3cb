"""The per-chat inbound limit and the update processor that applies it before anything else."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Chat, Message, Update, User

from bot.ordering import InboundLimit, PerChatUpdateProcessor


class Ticking:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_one_per_refill():
    clock = Ticking()
    limit = InboundLimit(burst=5, refill_seconds=2.0, clock=clock)
    assert [limit.admit(1, idle=False) for _ in range(5)] == [True] * 5
    assert limit.admit(1, idle=False) is None  # the first drop: tell them
    assert limit.admit(1, idle=False) is False  # later drops: silence
    clock.now += 2.0
    assert limit.admit(1, idle=False) is True
    assert limit.admit(1, idle=False) is False


def test_chats_have_their_own_buckets():
    limit = InboundLimit(burst=2, refill_seconds=2.0, clock=Ticking())
    assert [limit.admit(1, idle=False) for _ in range(3)] == [True, True, None]
    assert limit.admit(2, idle=False) is True


def test_a_chat_that_waits_for_its_answers_is_never_limited():
    clock = Ticking()
    limit = InboundLimit(burst=5, refill_seconds=2.0, clock=clock)
    for _ in range(50):  # a quick barista: every update after the previous one was answered
        assert limit.admit(1, idle=True) is True
        clock.now += 0.3


def test_a_flooding_chat_loses_the_idle_pass_until_it_calmed_down():
    clock = Ticking()
    limit = InboundLimit(burst=3, refill_seconds=2.0, clock=clock)
    for _ in range(3):
        limit.admit(1, idle=False)
    assert limit.admit(1, idle=False) is None
    assert limit.admit(1, idle=True) is False  # idle for a moment, but still flooding
    clock.now += 6.0  # the bucket is full again: calm
    assert limit.admit(1, idle=False) is True
    assert limit.admit(1, idle=False) is True
    assert limit.admit(1, idle=False) is True
    assert limit.admit(1, idle=False) is None  # a new flood is told again


def test_nonsense_limits_are_refused():
    with pytest.raises(ValueError):
        InboundLimit(burst=0)
    with pytest.raises(ValueError):
        InboundLimit(refill_seconds=0)


def private_message(chat_id: int, number: int) -> Update:
    user = User(chat_id, "Lena", False, language_code="de")
    message = Message(number, None, Chat(chat_id, "private"), from_user=user, text=f"nachricht {number}")
    return Update(number, message=message)


async def test_dropped_updates_are_never_run_and_the_chat_is_told_once():
    floods: list[int] = []
    processor = PerChatUpdateProcessor(inbound=InboundLimit(burst=3, refill_seconds=60),
                                       on_flood=lambda update: floods.append(update.update_id))
    ran: list[int] = []
    gate = asyncio.Event()

    async def handle(number: int) -> None:
        await gate.wait()  # the chat's first update is still being handled while the rest arrive
        ran.append(number)

    tasks = [asyncio.create_task(processor.process_update(private_message(7, n), handle(n))) for n in range(20)]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*tasks)
    assert ran == [0, 1, 2]  # in order, and nothing beyond the burst
    assert floods == [3]


async def test_a_chat_waiting_for_its_turn_holds_no_processing_slot():
    processor = PerChatUpdateProcessor(max_concurrent_updates=2)
    gate = asyncio.Event()
    done: list[int] = []

    async def slow(number: int) -> None:
        await gate.wait()
        done.append(number)

    async def quick(number: int) -> None:
        done.append(number)

    flood = [asyncio.create_task(processor.process_update(private_message(7, n), slow(n))) for n in range(10)]
    await asyncio.sleep(0)
    # One update of chat 7 runs, nine wait for its turn without a slot: another chat goes at once.
    await processor.process_update(private_message(8, 100), quick(100))
    assert done == [100]
    gate.set()
    await asyncio.gather(*flood)
    assert done == [100, *range(10)]
