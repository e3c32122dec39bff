"""Keeping the task hub's state file from growing for ever: retention and space reclaim.

Every backup leaves its instances (the parent and one per partition) in the hub, and a
nightly backup adds them every night. The Durable extension leaves that to the app (purge
calls, or a timer function calling ``purge_instance_history_by``); this host, which keeps
the hub in one local file, also purges by itself: every terminal instance (Completed,
Failed, Terminated) not updated for ``retention_days`` days goes, at start and then every
``CHECK_EVERY_S``. Deleted rows' space goes back to the file system (``Store.reclaim_space``).
Running instances are never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from devhost.hub.store import Store

log = logging.getLogger("devhost.hub.upkeep")

DEFAULT_RETENTION_DAYS = 30
CHECK_EVERY_S = 3600.0
MIB = 1024 * 1024


def describe_space(store: Store) -> str:
    space = store.space()
    return (
        f"task hub {store.hub_name}: {space.file_bytes / MIB:.1f} MiB on disk, "
        f"{space.instances:,} instances, {space.free_bytes / MIB:.1f} MiB free inside"
    )


def apply_retention(store: Store, days: int, now: datetime | None = None) -> int:
    """Purge terminal instances older than ``days`` (0: keep everything); how many went."""
    if days <= 0:
        return 0
    now = now or datetime.now(UTC)
    purged = store.purge_finished_before(now - timedelta(days=days))
    freed = store.reclaim_space()
    if purged or freed:
        log.info(
            "Retention (%d days): purged %d finished instances, gave back %.1f MiB",
            days,
            purged,
            freed / MIB,
        )
    return purged


async def retention_loop(store: Store, days: int, every: float = CHECK_EVERY_S) -> None:
    """``apply_retention`` now and every ``every`` seconds until cancelled."""
    if days <= 0:
        return
    while True:
        with contextlib.suppress(Exception):
            apply_retention(store, days)
        await asyncio.sleep(every)
