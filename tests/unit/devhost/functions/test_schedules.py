"""Timer schedules read as the Functions host reads them.

Sources: the timer extension's ``TimerSchedule.Create`` / ``CronSchedule`` /
``ConstantSchedule`` (azure-webjobs-sdk-extensions, Extensions/Timers/Scheduling) and NCrontab's
``CrontabSchedule.TryParse`` / ``CrontabFieldImpl`` (atifaziz/NCrontab). Expected occurrences
are found by a brute-force walk over the calendar, not by the library the host uses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from devhost.functions.schedules import (
    ConstantSchedule,
    CronSchedule,
    ScheduleError,
    parse_schedule,
    parse_timespan,
    resolve_settings,
)

START = datetime(2026, 1, 1, 0, 3, 7, tzinfo=UTC)


def brute_force_next(
    after: datetime,
    seconds=range(60),
    minutes=range(60),
    hours=range(24),
    days=range(1, 32),
    months=range(1, 13),
    weekdays=range(7),  # Sunday = 0, as in NCrontab
    limit=timedelta(days=800),
) -> datetime | None:
    """The first second after ``after`` matching every field (day AND weekday, as NCrontab)."""
    moment = after.replace(microsecond=0) + timedelta(seconds=1)
    end = after + limit
    while moment < end:
        sunday_first = (moment.weekday() + 1) % 7
        if moment.month not in months or moment.day not in days or sunday_first not in weekdays:
            moment = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0)
            continue
        if moment.hour not in hours:
            moment = (moment + timedelta(hours=1)).replace(minute=0, second=0)
            continue
        if moment.minute not in minutes:
            moment = (moment + timedelta(minutes=1)).replace(second=0)
            continue
        if moment.second in seconds:
            return moment
        moment += timedelta(seconds=1)
    return None


def next_of(expression: str, after: datetime = START) -> datetime | None:
    schedule = CronSchedule.parse(expression)
    assert schedule is not None, expression
    return schedule.next_occurrence(after, UTC)


NOON = {"seconds": [0], "minutes": [0], "hours": [12]}
MIDNIGHT = {"seconds": [0], "minutes": [0], "hours": [0]}
AT_9_30 = {"seconds": [0], "minutes": [30], "hours": [9]}


@pytest.mark.parametrize(
    ("expression", "fields"),
    [
        ("0 */5 * * * *", {"seconds": [0], "minutes": range(0, 60, 5)}),
        ("*/5 * * * *", {"seconds": [0], "minutes": range(0, 60, 5)}),  # 5 fields: no seconds
        ("*/2 * * * * *", {"seconds": range(0, 60, 2)}),
        ("0 30 9 * * 1-5", {**AT_9_30, "weekdays": range(1, 6)}),
        # NCrontab swaps a reversed range instead of wrapping around.
        ("0 30 9 * * 5-1", {**AT_9_30, "weekdays": range(1, 6)}),
        # Names are prefixes of the full English names, any case.
        ("0 0 12 * * Mon,wednesday,F", {**NOON, "weekdays": [1, 3, 5]}),
        ("0 0 0 1 jan,Jul *", {**MIDNIGHT, "days": [1], "months": [1, 7]}),
        # "v/n" runs from v to the field's maximum.
        ("10/20 * * * * *", {"seconds": [10, 30, 50]}),
        # Day of month AND day of week (not OR as in Vixie cron): Friday the 13th.
        ("0 0 0 13 * 5", {**MIDNIGHT, "days": [13], "weekdays": [5]}),
    ],
)
def test_occurrences_follow_ncrontab(expression: str, fields: dict) -> None:
    expected = brute_force_next(START, **fields)
    assert expected is not None
    assert next_of(expression) == expected
    # and the one after that
    assert next_of(expression, expected) == brute_force_next(expected, **fields)


@pytest.mark.parametrize(
    "expression",
    [
        "0 0 0 11 0 *",  # month 0: the real host's error in a published report
        "0 0 12 * * 7",  # NCrontab's day of week stops at 6
        "0 0 * * * * *",  # seven fields
        "* * * *",  # four fields
        "0 0 0 L * *",  # Quartz extensions are not NCrontab
        "0 0 0 ? * MON",
        "0 60 * * * *",
        "1,2, * * * * *",
        "0 0 12 * * Mo-Xy",
        "0 0 12 * * +1",
    ],
)
def test_invalid_expressions_are_not_cron(expression: str) -> None:
    assert CronSchedule.parse(expression) is None


def test_a_schedule_that_never_fires_has_no_next_occurrence() -> None:
    assert next_of("0 0 0 30 2 *") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("00:00:05", timedelta(seconds=5)),
        ("01:02:03", timedelta(hours=1, minutes=2, seconds=3)),
        ("1:02:03", timedelta(hours=1, minutes=2, seconds=3)),
        ("2.03:04:05", timedelta(days=2, hours=3, minutes=4, seconds=5)),
        ("2:03:04:05", timedelta(days=2, hours=3, minutes=4, seconds=5)),
        ("00:05", timedelta(minutes=5)),
        ("3", timedelta(days=3)),  # a bare number is days for TimeSpan.Parse
        ("00:00:01.5", timedelta(seconds=1.5)),
        ("24:00:00", None),
        ("00:60:00", None),
        ("five minutes", None),
    ],
)
def test_timespans_parse_as_dotnet_does(text: str, expected: timedelta | None) -> None:
    assert parse_timespan(text) == expected


def test_a_timespan_schedule_adds_its_interval() -> None:
    schedule = parse_schedule("00:10:00", {})
    assert isinstance(schedule, ConstantSchedule)
    assert schedule.next_occurrence(START, UTC) == START + timedelta(minutes=10)


def test_an_invalid_schedule_gets_the_extension_message() -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule("0 0 0 11 0 *", {})
    assert str(caught.value) == (
        "The schedule expression '0 0 0 11 0 *' was not recognized as a valid cron "
        "expression or timespan string."
    )


def test_settings_are_resolved_first() -> None:
    env = {"BACKUP_SCHEDULE": "0 0 3 * * *", "Schedules__Nightly": "0 15"}
    assert resolve_settings("%BACKUP_SCHEDULE%", env) == "0 0 3 * * *"
    # hierarchical names map ':' to '__'; a reference may be part of the expression
    assert resolve_settings("0 %Schedules:Nightly% * * *", env) == "0 0 15 * * *"
    assert isinstance(parse_schedule("%BACKUP_SCHEDULE%", env), CronSchedule)
    with pytest.raises(ScheduleError) as caught:
        parse_schedule("%MISSING_SCHEDULE%", env)
    assert str(caught.value) == "'%MISSING_SCHEDULE%' does not resolve to a value."
    assert caught.value.source == "Microsoft.Azure.WebJobs.Host"
    with pytest.raises(ScheduleError) as caught:
        parse_schedule("0 0 %HOUR * * *", env)
    assert str(caught.value) == "The '%' at position 4 does not have a closing '%'"


def test_frequency_turns_the_monitor_off_only_below_a_minute() -> None:
    # TimerSchedule.ShouldDisableScheduleMonitor and the TimeSpan rule in Create
    assert parse_schedule("*/10 * * * * *", {}).is_frequent()
    assert not parse_schedule("0 * * * * *", {}).is_frequent()
    assert not parse_schedule("*/10 5 * * * *", {}).is_frequent()
    assert parse_schedule("00:00:30", {}).is_frequent()
    assert not parse_schedule("00:01:00", {}).is_frequent()


def test_occurrences_are_wall_clock_times_of_the_zone() -> None:
    zone = ZoneInfo("America/New_York")
    schedule = CronSchedule.parse("0 0 9 * * *")
    assert schedule is not None
    # 9:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer
    winter = schedule.next_occurrence(datetime(2026, 1, 10, 12, tzinfo=UTC), zone)
    summer = schedule.next_occurrence(datetime(2026, 7, 10, 12, tzinfo=UTC), zone)
    assert winter.astimezone(UTC) == datetime(2026, 1, 10, 14, tzinfo=UTC)
    assert summer.astimezone(UTC) == datetime(2026, 7, 10, 13, tzinfo=UTC)
    # 02:30 does not exist on 8 March 2026 there: .NET applies the standard offset (03:30 EDT)
    gap = CronSchedule.parse("0 30 2 * * *")
    assert gap is not None
    found = gap.next_occurrence(datetime(2026, 3, 8, 5, tzinfo=UTC), zone)
    assert found.astimezone(UTC) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
