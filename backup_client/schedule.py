"""The backup schedule as the timer trigger reads it: next occurrences (pure, no I/O).

``BACKUP_SCHEDULE`` is an NCRONTAB expression, as Azure Functions timer triggers take it:
six fields with seconds first (``0 0 2 * * *`` is 02:00 every day); five fields are read
as ``0`` seconds + a classic cron line, as the timer extension does. Day of month and day
of week must both match when both are given (NCrontab's rule, unlike classic cron's "or").
The timer fires at wall-clock times of its host's time zone: ``WEBSITE_TIME_ZONE`` (a tz
database name on Linux), else the machine's zone; in Azure that is UTC unless the setting
is given, on the local host and under ``func start`` it is this machine's zone
(``time_zone`` picks the same one).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterBadCronError, CroniterBadDateError, CroniterError

SETTING = "BACKUP_SCHEDULE"
ROOTS_SETTING = "BACKUP_SCHEDULE_ROOTS"
DISABLED_SETTING = "AzureWebJobs.ScheduledBackup.Disabled"
TIME_ZONE_SETTINGS = ("WEBSITE_TIME_ZONE", "TZ")


class ScheduleError(ValueError):
    """The schedule expression cannot be read; the message says why and what is expected."""


def fields_of(expression: str) -> list[str]:
    """The six NCRONTAB fields (seconds first); ScheduleError for anything else."""
    fields = expression.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise ScheduleError(
            f"{expression!r} has {len(fields)} fields; an NCRONTAB schedule has six: "
            "second minute hour day month day-of-week (e.g. '0 0 2 * * *' for 02:00 daily)"
        )
    return fields


def time_zone(given: str | None, settings: Mapping[str, str]) -> tuple[tzinfo, str]:
    """The zone the schedule is read in, and where that choice came from.

    ``given`` (the command line) wins, then ``WEBSITE_TIME_ZONE`` and ``TZ`` from
    ``settings``, then this machine's zone, as the local host picks it.
    """
    choices = [(given, "--time-zone")] + [(settings.get(name), name) for name in TIME_ZONE_SETTINGS]
    for value, source in choices:
        name = (value or "").strip().lstrip(":")
        if not name:
            continue
        try:
            return ZoneInfo(name), f"{name} ({source})"
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(
                f"{source} is {name!r}, which is not a tz database time zone name (e.g. UTC, "
                "Europe/Paris)"
            ) from None
    localtime = Path("/etc/localtime")
    if localtime.exists():
        with contextlib.suppress(OSError, ValueError), localtime.open("rb") as file:
            return ZoneInfo.from_file(file, key="localtime"), "this machine's time zone"
    return datetime.now().astimezone().tzinfo or UTC, "this machine's time zone"


def next_occurrences(
    expression: str, after: datetime, count: int = 5, zone: tzinfo = UTC
) -> list[datetime]:
    """The next ``count`` occurrences strictly after ``after`` (aware), as wall-clock times
    of ``zone`` (aware, in that zone)."""
    fields = fields_of(expression)
    start = after.astimezone(zone)
    try:
        iterator = croniter(
            " ".join(fields), start, ret_type=datetime, second_at_beginning=True, day_or=False
        )
        return [iterator.get_next(datetime) for _ in range(count)]
    except CroniterBadDateError:
        raise ScheduleError(f"{expression!r} never occurs (no date matches it)") from None
    except (CroniterBadCronError, CroniterError, ValueError, KeyError) as exc:
        raise ScheduleError(
            f"{expression!r} is not a valid NCRONTAB schedule: each of its six fields (second "
            "minute hour day month day-of-week) must be a number, a range, a list, a step, '*' "
            "or a name (Jan, Mon)"
        ) from exc


def is_disabled(settings: dict[str, Any]) -> bool:
    value = str(settings.get(DISABLED_SETTING) or "").strip().lower()
    return value in ("true", "1")
