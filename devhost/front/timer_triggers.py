"""Run ``timerTrigger`` functions on their schedules, as the timer extension's listener does.

Follows ``TimerListener`` (azure-webjobs-sdk-extensions, ``Extensions/Timers/Listener``):

- At start, with ``useMonitor`` (the default, turned off for schedules that fire more than
  once a minute), the stored schedule status tells whether an occurrence was missed while the
  host was down; if so the function runs once at once with ``IsPastDue`` true.
- Otherwise ``runOnStartup`` runs it once at once; then it runs at each occurrence.
- After every run the status (Last, Next, LastUpdated) is computed and, with the monitor,
  stored: here in the task hub's SQLite file, so it survives restarts as the real host's
  blob under ``azure-webjobs-hosts/timers`` does.
- A failing invocation is logged and the schedule goes on; stopping waits for a running
  invocation to finish.

Occurrences are wall-clock times of the host's time zone (``WEBSITE_TIME_ZONE``, else ``TZ``,
else the machine's), as the extension uses ``TimeZoneInfo.Local``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

from devhost.functions.timer_binding import TimerOptions
from devhost.functions.timer_status import (
    ScheduleStatus,
    check_past_due,
    initial_status,
    status_after_run,
    timer_info_json,
)

log = logging.getLogger("devhost.timers")

__all__ = ["TimerTriggers"]

Invoke = Callable[[str, str], Awaitable[bool]]


class StatusStore(Protocol):
    def get_schedule_status(self, name: str) -> ScheduleStatus | None: ...

    def put_schedule_status(self, name: str, status: ScheduleStatus) -> None: ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class TimerTriggers:
    """One listener task per timer function; ``start`` and ``stop`` them together."""

    timers: list[TimerOptions]
    invoke: Invoke  # (function name, TimerInfo JSON) -> succeeded
    statuses: StatusStore
    zone: tzinfo
    now: Callable[[], datetime] = _utc_now
    _tasks: list[asyncio.Task] = field(default_factory=list, repr=False)
    _running: set[asyncio.Task] = field(default_factory=set, repr=False)

    async def start(self) -> None:
        for timer in self.timers:
            status, past_due = self._startup_status(timer)
            self._tasks.append(
                asyncio.create_task(
                    self._listen(timer, status, past_due), name=f"timer {timer.name}"
                )
            )

    async def stop(self) -> None:
        """Stop scheduling; a running invocation finishes first."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    def names(self) -> frozenset[str]:
        return frozenset(timer.name.lower() for timer in self.timers)

    def run_now(self, name: str) -> bool:
        """Run a timer function once, off schedule (the admin API's manual run).

        ``TimerTriggerBinding.BindAsync`` builds the TimerInfo of a manual run from the stored
        status, not past due, and the run does not change the schedule status.
        """
        timer = next((t for t in self.timers if t.name.lower() == name.lower()), None)
        if timer is None:
            return False
        status = self.statuses.get_schedule_status(timer.name) if timer.use_monitor else None
        info = timer_info_json(timer.schedule, status, False, self.zone)
        run = asyncio.ensure_future(self._invoke(timer.name, info))
        self._running.add(run)
        run.add_done_callback(self._running.discard)
        return True

    def _startup_status(self, timer: TimerOptions) -> tuple[ScheduleStatus, bool]:
        now = self.now()
        log.info(
            "The '%s' timer is using the schedule '%s' and the local time zone: '%s'",
            timer.name,
            timer.schedule,
            self.zone,
        )
        status: ScheduleStatus | None = None
        past_due = False
        if timer.use_monitor:
            stored = self.statuses.get_schedule_status(timer.name)
            check = check_past_due(timer.schedule, self.zone, now, stored)
            if check.write:
                self.statuses.put_schedule_status(timer.name, check.status)
            # Without a stored status the listener starts from a fresh one (StartAsync).
            status = check.status if stored is not None else None
            past_due = check.past_due > timedelta(0)
        if status is None:
            status = initial_status(timer.schedule, self.zone, now)
        log.info(
            "The next 5 occurrences of the '%s' schedule (%s) will be:%s",
            timer.name,
            timer.schedule,
            self._next_five(timer, now),
        )
        return status, past_due

    def _next_five(self, timer: TimerOptions, now: datetime) -> str:
        lines: list[str] = []
        moment: datetime | None = now
        for _ in range(5):
            assert moment is not None
            moment = timer.schedule.next_occurrence(moment, self.zone)
            if moment is None:
                lines.append("(never)")
                break
            lines.append(moment.isoformat())
        return "".join("\n" + line for line in lines)

    async def _listen(self, timer: TimerOptions, status: ScheduleStatus, past_due: bool) -> None:
        if past_due:
            log.info("Function '%s' is past due on startup. Executing now.", timer.name)
            status = await self._run(timer, status, past_due=True, unscheduled=True)
        elif timer.run_on_startup:
            log.info("Function '%s' is configured to run on startup. Executing now.", timer.name)
            status = await self._run(timer, status, past_due=False, unscheduled=True)
        while True:
            if status.next is None:
                log.info("Function '%s' has no next occurrence: it will not run.", timer.name)
                await asyncio.Event().wait()  # until stopped
            assert status.next is not None
            delay = (status.next - self.now()).total_seconds()
            if delay > 0:
                await asyncio.sleep(delay)
            status = await self._run(timer, status, past_due=False, unscheduled=False)

    async def _run(
        self, timer: TimerOptions, status: ScheduleStatus, *, past_due: bool, unscheduled: bool
    ) -> ScheduleStatus:
        # Shielded: a stop lets the invocation and its status write finish, as
        # TimerListener.StopAsync waits for the invocation lock.
        run = asyncio.ensure_future(self._run_and_record(timer, status, past_due, unscheduled))
        self._running.add(run)
        run.add_done_callback(self._running.discard)
        return await asyncio.shield(run)

    async def _run_and_record(
        self, timer: TimerOptions, status: ScheduleStatus, past_due: bool, unscheduled: bool
    ) -> ScheduleStatus:
        invoked_at = self.now()
        info = timer_info_json(
            timer.schedule, status if timer.use_monitor else None, past_due, self.zone
        )
        await self._invoke(timer.name, info)
        after = status_after_run(timer.schedule, self.zone, status, invoked_at, unscheduled)
        if timer.use_monitor:
            self.statuses.put_schedule_status(timer.name, after)
        return after

    async def _invoke(self, name: str, info: str) -> None:
        try:
            await self.invoke(name, info)
        except Exception:  # noqa: BLE001 - a failing run must not stop the schedule
            log.exception("Error occurred during scheduled invocation for '%s'.", name)
