"""The backup schedule as the timer trigger reads it: next occurrences (pure, no I/O).

``BACKUP_SCHEDULE`` is an NCRONTAB expression, as Azure Functions timer triggers take it:
six fields with seconds first (``0 0 2 * * *`` is 02:00 every day); five fields are read
as ``0`` seconds + a classic cron line, as the timer extension does. Day of month and day
of week must both match when both are given (NCrontab's rule, unlike classic cron's "or").
Occurrences are computed in UTC, the Functions default (``WEBSITE_TIME_ZONE`` changes that
on Azure; this command then shows UTC times all the same and says so).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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


def next_occurrences(expression: str, after: datetime, count: int = 5) -> list[datetime]:
    """The next ``count`` occurrences strictly after ``after`` (aware), in UTC."""
    fields = fields_of(expression)
    start = after.astimezone(UTC)
    try:
        iterator = croniter(
            " ".join(fields), start, ret_type=datetime, second_at_beginning=True, day_or=False
        )
        return [iterator.get_next(datetime).astimezone(UTC) for _ in range(count)]
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
