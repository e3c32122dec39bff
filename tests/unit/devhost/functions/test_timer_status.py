"""Schedule status and past-due detection, step for step with the timer extension.

Source: azure-webjobs-sdk-extensions ``ScheduleMonitor.CheckPastDueAsync``,
``TimerListener.StartAsync`` / ``InvokeJobFunction`` and ``TimerInfo``; the worker-side shape
is ``azure.functions.timer.TimerRequestConverter``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from azure.functions.meta import Datum
from azure.functions.timer import TimerRequestConverter

from devhost.functions.schedules import parse_schedule
from devhost.functions.timer_status import (
    ScheduleStatus,
    check_past_due,
    status_after_run,
    timer_info_json,
)

DAILY_AT_3 = parse_schedule("0 0 3 * * *", {})
T0 = datetime(2026, 5, 1, 1, 0, tzinfo=UTC)
AT_3 = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)


def test_first_start_records_the_next_occurrence_and_is_not_past_due() -> None:
    check = check_past_due(DAILY_AT_3, UTC, T0, None)
    assert check.write and check.past_due == timedelta(0)
    assert check.status == ScheduleStatus(None, AT_3, T0)


def test_a_missed_occurrence_is_past_due_at_the_next_start() -> None:
    stored = check_past_due(DAILY_AT_3, UTC, T0, None).status
    later = AT_3 + timedelta(minutes=7)  # the host was down at 03:00
    check = check_past_due(DAILY_AT_3, UTC, later, stored)
    assert not check.write
    assert check.past_due == timedelta(minutes=7)
    assert check.status.next == AT_3


def test_no_occurrence_missed_when_started_before_it() -> None:
    stored = check_past_due(DAILY_AT_3, UTC, T0, None).status
    check = check_past_due(DAILY_AT_3, UTC, T0 + timedelta(hours=1), stored)
    assert check.past_due == timedelta(0) and not check.write


def test_a_changed_schedule_starts_over_instead_of_running_at_once() -> None:
    stored = check_past_due(DAILY_AT_3, UTC, T0, None).status
    hourly = parse_schedule("0 0 * * * *", {})
    later = AT_3 + timedelta(minutes=7)
    check = check_past_due(hourly, UTC, later, stored)
    assert check.write and check.past_due == timedelta(0)
    assert check.status == ScheduleStatus(None, datetime(2026, 5, 1, 4, 0, tzinfo=UTC), later)


def test_the_status_after_a_run_counts_from_the_planned_time() -> None:
    status = ScheduleStatus(None, AT_3, T0)
    early = AT_3 - timedelta(milliseconds=300)  # timers may fire a little early
    after = status_after_run(DAILY_AT_3, UTC, status, early, unscheduled=False)
    assert after == ScheduleStatus(AT_3, AT_3 + timedelta(days=1), AT_3)
    # a past-due or startup run counts from when it ran
    late = AT_3 + timedelta(minutes=7)
    after = status_after_run(DAILY_AT_3, UTC, status, late, unscheduled=True)
    assert after == ScheduleStatus(late, AT_3 + timedelta(days=1), late)


def test_the_function_receives_timer_info_through_the_library_converter() -> None:
    zone = ZoneInfo("Asia/Tokyo")
    status = ScheduleStatus(None, AT_3, T0)
    text = timer_info_json(DAILY_AT_3, status, True, zone)
    timer = TimerRequestConverter.decode(Datum(text, "json"), trigger_metadata=None)
    assert timer.past_due is True
    assert timer.schedule == {"AdjustForDST": True}
    # local times with their offset, as Json.NET writes a local DateTime
    assert timer.schedule_status["Next"] == "2026-05-01T12:00:00+09:00"
    assert timer.schedule_status["LastUpdated"] == "2026-05-01T10:00:00+09:00"
    assert timer.schedule_status["Last"].startswith("0001-01-01T")
    assert datetime.fromisoformat(timer.schedule_status["Next"]) == AT_3
    # without the monitor there is no status
    bare = json.loads(timer_info_json(parse_schedule("00:00:10", {}), None, False, UTC))
    assert bare == {"Schedule": {"AdjustForDST": False}, "ScheduleStatus": None, "IsPastDue": False}
    timer = TimerRequestConverter.decode(Datum(json.dumps(bare), "json"), trigger_metadata=None)
    assert timer.schedule_status == {} and timer.past_due is False
