"""The durable timer waiter: wakes instances when their timers fall due.

The timers themselves are inbox messages in the store, visible from their fire time; this only
keeps, in memory, when the next one is due, so the dispatcher gives the instance an episode
then. It sleeps until the earliest due time on the given ``Clock`` (tests can control it) and
wakes early when an earlier timer is added.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from datetime import datetime

from devhost.hub.clock import Clock

__all__ = ["TimerWaiter"]


class TimerWaiter:
    """Calls ``on_due(instance_id)`` (on the loop) for each timer once its time has come."""

    def __init__(self, clock: Clock, on_due: Callable[[str], None]) -> None:
        self.clock = clock
        self._on_due = on_due
        self._timers: list[tuple[datetime, int, str]] = []
        self._order = itertools.count()
        self._wake = asyncio.Event()

    def __len__(self) -> int:
        return len(self._timers)

    def add(self, fire_at: datetime, instance_id: str) -> None:
        earliest = self._timers[0][0] if self._timers else None
        heapq.heappush(self._timers, (fire_at, next(self._order), instance_id))
        if earliest is None or fire_at < earliest:
            self._wake.set()

    async def run(self) -> None:
        """Wait for timers until cancelled."""
        while True:
            now = self.clock.now()
            while self._timers and self._timers[0][0] <= now:
                _, _, instance_id = heapq.heappop(self._timers)
                self._on_due(instance_id)
            self._wake.clear()
            waits: list[asyncio.Task] = [asyncio.create_task(self._wake.wait())]
            if self._timers:
                delay = (self._timers[0][0] - now).total_seconds()
                waits.append(asyncio.create_task(self.clock.sleep(delay)))
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in waits:
                    task.cancel()
