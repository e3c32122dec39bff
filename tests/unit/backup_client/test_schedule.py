"""The client's reading of the NCRONTAB schedule: next occurrences and clear errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backup_client.schedule import ScheduleError, is_disabled, next_occurrences, time_zone

NOW = datetime(2026, 11, 29, 23, 7, 30, tzinfo=UTC)


def test_six_fields_seconds_first():
    got = next_occurrences("0 0 2 * * *", NOW, 3)
    first = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    assert got == [first + timedelta(days=n) for n in range(3)]


def test_every_few_seconds():
    assert next_occurrences("*/20 * * * * *", NOW, 3) == [
        NOW.replace(second=40),
        NOW.replace(minute=8, second=0),
        NOW.replace(minute=8, second=20),
    ]


def test_five_fields_read_as_zero_seconds():
    assert next_occurrences("30 9 * * *", NOW, 1) == [datetime(2026, 11, 30, 9, 30, tzinfo=UTC)]


def test_day_and_weekday_must_both_match_as_in_ncrontab():
    # Friday the 13th: classic cron's "or" would also fire on every Friday.
    for when in next_occurrences("0 0 0 13 * Fri", NOW, 3):
        assert when.day == 13 and when.weekday() == 4


def test_times_are_utc_whatever_zone_now_is_given_in():
    tokyo = NOW.astimezone(datetime.now().astimezone().tzinfo)
    assert next_occurrences("0 0 2 * * *", tokyo, 1) == next_occurrences("0 0 2 * * *", NOW, 1)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 0 2", "has 3 fields; an NCRONTAB schedule has six"),
        ("0 0 0 31 2 *", "never occurs"),
        ("0 0 25 * * *", "is not a valid NCRONTAB schedule"),
        ("x 0 2 * * *", "is not a valid NCRONTAB schedule"),
    ],
)
def test_bad_schedules_say_what_is_wrong(expression, message):
    with pytest.raises(ScheduleError, match=message):
        next_occurrences(expression, NOW)


def test_the_disabled_setting():
    assert is_disabled({"AzureWebJobs.ScheduledBackup.Disabled": "True"})
    assert is_disabled({"AzureWebJobs.ScheduledBackup.Disabled": "1"})
    assert not is_disabled({"AzureWebJobs.ScheduledBackup.Disabled": "false"})
    assert not is_disabled({})


def test_wall_clock_times_of_the_timers_zone():
    paris = ZoneInfo("Europe/Paris")
    (first,) = next_occurrences("0 0 2 * * *", NOW, 1, paris)
    assert first == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 02:00 CET
    assert first.tzinfo is paris


def test_the_zone_comes_from_the_option_then_the_settings():
    assert time_zone("UTC", {"WEBSITE_TIME_ZONE": "Europe/Paris"})[1] == "UTC (--time-zone)"
    zone, source = time_zone(None, {"WEBSITE_TIME_ZONE": "Europe/Paris", "TZ": "Asia/Tokyo"})
    assert zone == ZoneInfo("Europe/Paris") and source == "Europe/Paris (WEBSITE_TIME_ZONE)"
    assert time_zone(None, {"TZ": ":Asia/Tokyo"})[0] == ZoneInfo("Asia/Tokyo")
    assert time_zone(None, {})[1] == "this machine's time zone"
    with pytest.raises(ScheduleError, match="not a tz database time zone name"):
        time_zone("Mars/Base", {})
