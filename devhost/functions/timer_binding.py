"""A ``timerTrigger`` binding, read as the Functions host reads it, and the timers' time zone.

Rules: ``TimerTriggerAttribute`` (``useMonitor`` defaults to true, ``runOnStartup`` to false)
and ``TimerSchedule.Create`` (azure-webjobs-sdk-extensions, ``Extensions/Timers``), which turns
the monitor off for schedules that fire more than once a minute.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from devhost.functions.schedules import ConstantSchedule, CronSchedule, parse_schedule

log = logging.getLogger("devhost.timers")

__all__ = ["TimerOptions", "host_time_zone", "timer_options"]


@dataclass(frozen=True)
class TimerOptions:
    """A timer function's binding, resolved: its schedule and the two switches."""

    name: str
    schedule: CronSchedule | ConstantSchedule
    run_on_startup: bool
    use_monitor: bool


def _flag(raw: Mapping[str, Any], key: str, default: bool) -> bool:
    for k, value in raw.items():
        if isinstance(k, str) and k.lower() == key.lower():
            if isinstance(value, str):
                return value.strip().lower() == "true"
            return bool(value)
    return default


def timer_options(
    name: str, binding: Mapping[str, Any], environ: Mapping[str, str]
) -> TimerOptions:
    """Read a timerTrigger binding; raises ScheduleError with the host's message."""
    expression = next(
        (v for k, v in binding.items() if isinstance(k, str) and k.lower() == "schedule"), None
    )
    schedule = parse_schedule(expression if isinstance(expression, str) else "", environ)
    use_monitor = _flag(binding, "useMonitor", True)
    if use_monitor and schedule.is_frequent():
        log.debug("UseMonitor changed to false based on schedule frequency.")
        use_monitor = False
    return TimerOptions(name, schedule, _flag(binding, "runOnStartup", False), use_monitor)


def host_time_zone(environ: Mapping[str, str]) -> tzinfo:
    """``WEBSITE_TIME_ZONE`` (a tz database name, as on Linux), else ``TZ``, else the machine's."""
    for setting in ("WEBSITE_TIME_ZONE", "TZ"):
        name = environ.get(setting, "").strip().lstrip(":")
        if not name:
            continue
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning(
                "%s is '%s', which is not a tz database time zone name; timers use UTC. "
                "(Windows time zone names work only on Windows hosts.)",
                setting,
                name,
            )
            return UTC
    localtime = Path("/etc/localtime")
    if localtime.exists():
        with contextlib.suppress(OSError, ValueError), localtime.open("rb") as file:
            return ZoneInfo.from_file(file, key="localtime")
    return UTC
