"""The activity pool: runs activity work items in the app's slots and records their results.

Work waits until one of the app's activity slots is free, then goes to the app's own threads
(``contracts.ThreadedActivities``) or, when the app declines, runs through ``invoke_activity``
on the event loop. Outcomes from the app's threads reach the loop in batches (one wake-up for
however many ended meanwhile), and their results are written with a group commit.

Everything here except ``_ended_in_thread`` runs on the event loop thread.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import traceback
from collections.abc import Callable, Iterable
from datetime import datetime

from devhost.contracts import ActivityOutcome, FunctionAppProtocol
from devhost.core import history
from devhost.hub.clock import Clock
from devhost.hub.records import ActivityResult, WorkItem
from devhost.hub.store import Store

__all__ = ["RESULT_BATCH", "RESULT_DELAY", "RETRY_DELAY", "ActivityPool"]

log = logging.getLogger(__name__)

# Group commit of activity results: flush when this many are waiting, or this soon after the
# first one arrived, whichever comes first.
RESULT_BATCH = 512
RESULT_DELAY = 0.004
# An activity the app could not run for an infrastructure reason is tried again after this.
RETRY_DELAY = 0.5


class ActivityPool:
    """Activity work items from hand-off to the recorded TaskCompleted / TaskFailed.

    ``metrics`` is the task hub's counter dict (updated in place); ``on_result(instance_id,
    event)`` is told of every result the store accepted, so the instance can get an episode.
    """

    def __init__(
        self,
        store: Store,
        app: FunctionAppProtocol,
        clock: Clock,
        *,
        limit: int,
        metrics: dict[str, int],
        on_result: Callable[[str, dict], None],
    ) -> None:
        self.store = store
        self.app = app
        self.clock = clock
        self.limit = max(1, limit)
        self.metrics = metrics
        self._on_result = on_result
        self._work: collections.deque[WorkItem] = collections.deque()
        self._in_flight = 0
        self._finished: collections.deque[tuple[WorkItem, ActivityOutcome]] = collections.deque()
        self._wake_pending = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_loop: set[asyncio.Task[None]] = set()  # activities run by invoke_activity
        self._idle: asyncio.Future[None] | None = None
        self._taking = False  # between start() and stop_taking()
        self._stopped = False
        self._results: list[ActivityResult] = []
        self._flush_handle: asyncio.TimerHandle | None = None

    # ---- life cycle -------------------------------------------------------------------

    def start(self, recovered: Iterable[WorkItem]) -> None:
        """Take the work items the store still holds and start handing out work (on the loop)."""
        self._loop = asyncio.get_running_loop()
        self._work.extend(recovered)
        self._taking = True
        self._start_activities()

    def stop_taking(self) -> asyncio.Future[None] | None:
        """Hand out no more work and retry nothing; a future that is done once the running
        activities have ended, or None when none is running."""
        self._taking = False
        if self._in_flight:
            self._idle = asyncio.get_running_loop().create_future()
            return self._idle
        return None

    def cancel_running(self) -> list[asyncio.Task[None]]:
        """Cancel the activities running on the loop; the tasks, for the caller to await."""
        for task in self._on_loop:
            task.cancel()
        return list(self._on_loop)

    def close(self) -> None:
        """Record what has ended and stop recording."""
        self._drain()
        self._flush_results()
        # Outcomes of activities still running are dropped from here on: their work items
        # are still in the store and run again after the next start.
        self._stopped = True

    # ---- work --------------------------------------------------------------------------

    def add(self, items: Iterable[WorkItem]) -> None:
        """Queue newly scheduled work items and hand out what the free slots can take."""
        self._work.extend(items)
        self._start_activities()

    def _start_activities(self) -> None:
        """Hand waiting work to the app while it has free activity slots (on the loop)."""
        if not self._taking:
            return
        limit = self.limit
        submit = getattr(self.app, "submit_activity", None)
        work = self._work
        while work and self._in_flight < limit:
            item = work.popleft()
            self._in_flight += 1
            self.metrics["activities_started"] += 1
            if submit is not None and submit(
                item.name, item.input, functools.partial(self._ended_in_thread, item)
            ):
                continue
            task = asyncio.create_task(self._run_on_loop(item), name="activity")
            self._on_loop.add(task)
            task.add_done_callback(self._on_loop.discard)

    def _ended_in_thread(self, item: WorkItem, outcome: ActivityOutcome) -> None:
        """An activity ended in one of the app's threads (called in that thread)."""
        self._finished.append((item, outcome))
        # Cleared by ``_drain`` before it empties the queue, so an outcome appended after
        # that check is either drained now or wakes the loop again: none is left behind.
        if not self._wake_pending and self._loop is not None:
            self._wake_pending = True
            with contextlib.suppress(RuntimeError):  # the loop is closed: dropped, runs again
                self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        """Record every outcome that came back from the app's threads (on the loop)."""
        self._wake_pending = False
        finished = self._finished
        if not finished or self._stopped:
            return
        now = self.clock.now()
        while finished:
            item, outcome = finished.popleft()
            self._activity_ended(item, outcome, now)
        self._start_activities()

    async def _run_on_loop(self, item: WorkItem) -> None:
        try:
            outcome = await self._invoke_activity(item)
        except asyncio.CancelledError:
            self._in_flight -= 1  # cut short by stop(): still in the store
            self._check_idle()
            raise
        if not self._stopped:
            self._activity_ended(item, outcome, self.clock.now())
            self._start_activities()

    def _activity_ended(self, item: WorkItem, outcome: ActivityOutcome, now: datetime) -> None:
        self._in_flight -= 1
        self._record_outcome(item, outcome, now)
        self._check_idle()

    def _check_idle(self) -> None:
        idle = self._idle
        if self._in_flight == 0 and idle is not None and not idle.done():
            idle.set_result(None)

    async def _invoke_activity(self, item: WorkItem) -> ActivityOutcome:
        try:
            return await self.app.invoke_activity(item.name, item.input)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - the app's own guard failed
            return ActivityOutcome(
                failed=True,
                reason=f"Activity function '{item.name}' failed:  {type(error).__name__}: {error}",
                details="".join(traceback.format_exception(error)),
            )

    # ---- results -----------------------------------------------------------------------

    def _record_outcome(self, item: WorkItem, outcome: ActivityOutcome, now: datetime) -> None:
        if outcome.retryable:
            if self._taking:
                self.metrics["activities_requeued"] += 1
                asyncio.get_running_loop().call_later(RETRY_DELAY, self._requeue, item)
            return
        if outcome.failed:
            event = history.task_failed(now, item.task_id, outcome.reason, outcome.details)
        else:
            event = history.task_completed(now, item.task_id, outcome.result)
        self._results.append(
            ActivityResult(item.instance_id, item.execution_id, item.task_id, event)
        )
        if len(self._results) >= RESULT_BATCH:
            self._flush_results()
        elif self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_later(
                RESULT_DELAY, self._flush_results
            )

    def _requeue(self, item: WorkItem) -> None:
        if self._taking:
            self._work.append(item)
            self._start_activities()

    def _flush_results(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        batch, self._results = self._results, []
        if not batch:
            return
        try:
            accepted = self.store.complete_activities(batch, self.clock.now())
        except Exception:
            # Their work items are still in the store: they run again after a restart.
            log.exception("Could not record %d activity results", len(batch))
            return
        self.metrics["activities_completed"] += len(accepted)
        self.metrics["results_dropped"] += len(batch) - len(accepted)
        for result in accepted:
            self._on_result(result.instance_id, result.event)
