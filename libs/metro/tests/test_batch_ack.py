"""A batch is acked in one frame only when no earlier delivery of its channel is still being handled."""
from __future__ import annotations

import asyncio

from metro.bus import Consumer


class FakeChannel:
    is_closed = False

    def __init__(self) -> None:
        self.acks: list[tuple[int, bool]] = []


class FakeMessage:
    def __init__(self, channel: FakeChannel, tag: int) -> None:
        self.channel, self.delivery_tag = channel, tag

    async def ack(self, multiple: bool = False) -> None:
        self.channel.acks.append((self.delivery_tag, multiple))


async def _delivered(consumer: Consumer, channel: FakeChannel, tags: range) -> list:
    messages = [FakeMessage(channel, t) for t in tags]
    for m in messages:
        await consumer._received(m)  # type: ignore[arg-type]
    return messages


def test_a_later_batch_committed_first_does_not_ack_the_earlier_one_in_flight():
    async def scenario() -> list[tuple[int, bool]]:
        consumer, channel = Consumer(None, None, "q", {}, None), FakeChannel()  # type: ignore[arg-type]
        first, second = await _delivered(consumer, channel, range(1, 4)), await _delivered(consumer, channel,
                                                                                             range(4, 7))
        await consumer._ack(second)
        await consumer._ack(first)
        return channel.acks
    assert asyncio.run(scenario()) == [(4, False), (5, False), (6, False), (3, True)]


def test_a_batch_with_nothing_unsettled_before_it_is_acked_in_one_frame():
    async def scenario() -> list[tuple[int, bool]]:
        consumer, channel = Consumer(None, None, "q", {}, None), FakeChannel()  # type: ignore[arg-type]
        first = await _delivered(consumer, channel, range(1, 4))
        await _delivered(consumer, channel, range(4, 6))  # delivered after it, not handled yet
        await consumer._ack(first)
        return channel.acks
    assert asyncio.run(scenario()) == [(3, True)]
