"""Hub helpers for integration tests: the real hub over a state file (crash tests need one).

``StandInApp`` and the waits come from ``devhost.testing`` (the same hub in memory).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from devhost.hub.client import TaskHub
from devhost.hub.clock import Clock
from devhost.hub.store import Store
from devhost.testing import StandInApp, hub_options, wait_finished, wait_for, wait_status

__all__ = [
    "StandInApp",
    "event_types",
    "run",
    "running_hub",
    "wait_finished",
    "wait_for",
    "wait_status",
    "wait_until",
]


@contextlib.asynccontextmanager
async def running_hub(
    state_dir: Path,
    app: StandInApp,
    *,
    clock: Clock | None = None,
    activities: int = 10,
    orchestrations: int = 10,
    hub_name: str = "TestHub",
) -> AsyncIterator[TaskHub]:
    store = Store.open(state_dir, hub_name)
    hub = TaskHub(store, app, hub_options(hub_name, activities, orchestrations), clock=clock)
    try:
        await hub.start()
        yield hub
    finally:
        await hub.stop()
        store.close()


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """For facts the hub does not announce (a timer waiter asleep): check, yield, repeat."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.005)


def run(coroutine: Any, timeout: float = 120.0) -> Any:
    """Run a test coroutine on a fresh event loop, with a deadline."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def event_types(events: list[dict]) -> list[int]:
    return [event["EventType"] for event in events]
