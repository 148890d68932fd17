"""The loop every periodic worker of a service runs."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


async def repeat(stop: asyncio.Event, name: str, step: Callable[[], Awaitable[Any]], interval_s: float, *,
                 while_busy: bool = False) -> None:
    """Runs ``step`` until ``stop``, waiting ``interval_s`` between runs (or, ``while_busy``, only after a run
    that found nothing to do). A failed run is logged and retried at the next interval: a worker never dies."""
    while not stop.is_set():
        try:
            found = await step()
        except Exception:
            log.exception("%s failed", name)
            found = None
        if while_busy and found:
            continue
        try:
            await asyncio.wait_for(stop.wait(), interval_s)
        except TimeoutError:
            pass
