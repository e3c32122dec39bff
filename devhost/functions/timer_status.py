"""A timer's schedule status and what the function receives (pure, no I/O).

Follows the timer extension (``azure-webjobs-sdk-extensions``, ``Extensions/Timers``):
``ScheduleMonitor.CheckPastDueAsync`` decides at start whether an occurrence was missed while
the host was down, ``TimerListener.InvokeJobFunction`` computes the status after each run, and
the host hands the function ``TimerInfo`` serialised as JSON, which the ``azure-functions``
library's ``TimerRequestConverter`` turns into ``func.TimerRequest``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from devhost.functions.schedules import Schedule

# default(DateTime): the extension's "never" for Last and LastUpdated.
NEVER: datetime | None = None


@dataclass(frozen=True)
class ScheduleStatus:
    """``ScheduleStatus``: the last run, the next one, and when Next was computed."""

    last: datetime | None
    next: datetime | None
    last_updated: datetime | None

    def to_json(self) -> dict[str, str | None]:
        return {
            "Last": _iso(self.last),
            "Next": _iso(self.next),
            "LastUpdated": _iso(self.last_updated),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScheduleStatus:
        return cls(
            _parse(data.get("Last")), _parse(data.get("Next")), _parse(data.get("LastUpdated"))
        )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _parse(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) and text else None


@dataclass(frozen=True)
class PastDueCheck:
    status: ScheduleStatus  # what the monitor holds after the check
    write: bool  # the stored status must be replaced by ``status``
    past_due: timedelta  # zero when no occurrence was missed


def check_past_due(
    schedule: Schedule, zone: tzinfo, now: datetime, stored: ScheduleStatus | None
) -> PastDueCheck:
    """``ScheduleMonitor.CheckPastDueAsync``, step for step."""
    if stored is None:
        # First start of this timer: record the next occurrence so a later start can tell
        # that it was missed.
        status = ScheduleStatus(NEVER, schedule.next_occurrence(now, zone), now)
        return PastDueCheck(status, True, _overdue(now, status.next))
    if stored.last is not None:
        expected, last_updated = schedule.next_occurrence(stored.last, zone), stored.last
    elif stored.last_updated is not None:
        expected = schedule.next_occurrence(stored.last_updated, zone)
        last_updated = stored.last_updated
    else:
        expected, last_updated = schedule.next_occurrence(now, zone), now
    if stored.next != expected:
        # The schedule changed since the status was written: start over from now rather
        # than count an occurrence of the old schedule as missed.
        if expected is not None and now > expected:
            expected, last_updated = schedule.next_occurrence(now, zone), now
        status = ScheduleStatus(NEVER, expected, last_updated)
        return PastDueCheck(status, True, _overdue(now, status.next))
    return PastDueCheck(stored, False, _overdue(now, stored.next))


def _overdue(now: datetime, due: datetime | None) -> timedelta:
    if due is None or now <= due:
        return timedelta(0)
    return now - due


def initial_status(schedule: Schedule, zone: tzinfo, now: datetime) -> ScheduleStatus:
    """TimerListener.StartAsync without a stored status."""
    return ScheduleStatus(NEVER, schedule.next_occurrence(now, zone), NEVER)


def status_after_run(
    schedule: Schedule,
    zone: tzinfo,
    current: ScheduleStatus,
    invoked_at: datetime,
    unscheduled: bool,
) -> ScheduleStatus:
    """TimerListener.InvokeJobFunction: the status once an invocation has run.

    A scheduled run that fired a little early counts from its planned time, so the same
    occurrence is never planned twice.
    """
    at = invoked_at
    if not unscheduled and current.next is not None and current.next > invoked_at:
        at = current.next
    return ScheduleStatus(at, schedule.next_occurrence(at, zone), at)


def timer_info_json(
    schedule: Schedule, status: ScheduleStatus | None, past_due: bool, zone: tzinfo
) -> str:
    """``TimerInfo`` as the host serialises it for an out-of-process worker.

    ``Schedule`` shows its one public property, ``ScheduleStatus`` is null without the
    monitor, and dates are local times with their offset, as Json.NET writes a local
    ``DateTime``.
    """
    return json.dumps(
        {
            "Schedule": {"AdjustForDST": schedule.adjust_for_dst},
            "ScheduleStatus": None
            if status is None
            else {
                "Last": _dotnet_local(status.last, zone),
                "Next": _dotnet_local(status.next, zone),
                "LastUpdated": _dotnet_local(status.last_updated, zone),
            },
            "IsPastDue": past_due,
        }
    )


def _dotnet_local(moment: datetime | None, zone: tzinfo) -> str:
    if moment is None:
        # default(DateTime).ToLocalTime(): midnight of 1 January year 1, moved by the zone's
        # offset when that stays within the calendar.
        offset = datetime(2001, 1, 1, tzinfo=UTC).astimezone(zone).utcoffset() or timedelta(0)
        start = datetime(1, 1, 1) + max(offset, timedelta(0))
        return start.isoformat() + _offset_text(offset)
    local = moment.astimezone(zone)
    text = local.replace(tzinfo=None).isoformat()
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + _offset_text(local.utcoffset() or timedelta(0))


def _offset_text(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes = int(abs(offset).total_seconds()) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
