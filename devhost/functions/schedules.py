"""Timer trigger schedules as the Functions host reads them (pure, no I/O).

The rules come from the timer extension (``azure-webjobs-sdk-extensions``,
``Extensions/Timers/Scheduling/TimerSchedule.cs: Create``) and the NCrontab library it uses
(``atifaziz/NCrontab``, ``CrontabSchedule.TryParse`` and ``CrontabFieldImpl``):

- ``%Name%`` parts are replaced by app settings first (``INameResolver.ResolveWholeString``);
  ``__`` in an environment variable stands for ``:`` in the setting name.
- Then the expression is tried as NCRONTAB: five fields (minutes first) or, for any other
  count, six with seconds first (``CronSchedule.HasSeconds``); fields are separated by spaces.
- Then as a .NET ``TimeSpan`` (``[-][d.]hh:mm[:ss[.fffffff]]`` or a whole number of days): a
  constant interval.
- Anything else fails with the extension's message, which the host prefixes with the
  function's indexing error.

NCrontab is parsed here, field by field, with its own rules (names are prefixes of full
month and day names, ``a-b`` with ``a > b`` is the range swapped, ``v/n`` runs from ``v`` to
the field's maximum, day of week is 0-6): no Python cron library accepts exactly that set.
The occurrences themselves come from ``croniter``, fed the normalised field values with
NCrontab's "day of month AND day of week" rule (``day_or=False``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Protocol

from croniter import CroniterBadDateError, croniter

from devhost.contracts import HostError

__all__ = [
    "ConstantSchedule",
    "CronSchedule",
    "Schedule",
    "ScheduleError",
    "SettingReferenceError",
    "parse_schedule",
    "parse_timespan",
    "resolve_settings",
]


class ScheduleError(HostError):
    """A schedule the real host would not accept; the message is the host's."""

    # The assembly the real host names before the message (the exception's Source).
    source = "Microsoft.Azure.WebJobs.Extensions"


class SettingReferenceError(ScheduleError):
    """A ``%Name%`` reference that cannot be resolved (WebJobs ``NameResolverExtensions``)."""

    source = "Microsoft.Azure.WebJobs.Host"


class Schedule(Protocol):
    adjust_for_dst: bool

    def next_occurrence(self, now: datetime, zone: tzinfo) -> datetime | None:
        """The first occurrence strictly after the aware ``now``; None if there is none."""

    def is_frequent(self) -> bool:
        """Fires more than once a minute: the extension then turns ``useMonitor`` off."""


# ---------------------------------------------------------------------------------------
# %Setting% references
# ---------------------------------------------------------------------------------------


def resolve_settings(expression: str, environ: Mapping[str, str]) -> str:
    """Replace every ``%Name%`` by its app setting (WebJobs ``ResolveWholeString``, same
    messages).

    A setting name with ``:`` is read from the environment variable with ``__``, the way
    .NET configuration maps hierarchical names.
    """
    parts: list[str] = []
    position = 0
    while True:
        start = expression.find("%", position)
        if start < 0:
            break
        end = expression.find("%", start + 1)
        if end < 0:
            raise ScheduleError(f"The '%' at position {start} does not have a closing '%'")
        name = expression[start + 1 : end]
        value = _setting(name, environ)
        if value is None:
            raise SettingReferenceError(f"'%{name}%' does not resolve to a value.")
        parts.append(expression[position:start])
        parts.append(value)
        position = end + 1
    parts.append(expression[position:])
    return "".join(parts)


def _setting(name: str, environ: Mapping[str, str]) -> str | None:
    for candidate in (name, name.replace(":", "__")):
        if candidate in environ:
            return environ[candidate]
    lowered = {key.lower(): value for key, value in environ.items()}
    for candidate in (name, name.replace(":", "__")):
        if candidate.lower() in lowered:
            return lowered[candidate.lower()]
    return None


# ---------------------------------------------------------------------------------------
# NCRONTAB
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    minimum: int
    maximum: int
    names: tuple[str, ...] = ()

    @property
    def everything(self) -> frozenset[int]:
        return frozenset(range(self.minimum, self.maximum + 1))


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August")
_MONTHS += ("September", "October", "November", "December")
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_SECOND = _Field(0, 59)
_MINUTE = _Field(0, 59)
_HOUR = _Field(0, 23)
_DAY = _Field(1, 31)
_MONTH = _Field(1, 12, _MONTHS)
_DAY_OF_WEEK = _Field(0, 6, _DAYS)
_FIELDS = (_SECOND, _MINUTE, _HOUR, _DAY, _MONTH, _DAY_OF_WEEK)
# int.Parse with NumberStyles.Integer: optional blanks and sign around decimal digits.
_DOTNET_INT = re.compile(r"^[ \t]*[+-]?[0-9]+[ \t]*$")


class _BadField(ValueError):
    pass


def _dotnet_int(text: str) -> int:
    if not _DOTNET_INT.match(text):
        raise _BadField(text)
    value = int(text)
    if not -(2**31) <= value < 2**31:
        raise _BadField(text)
    return value


def _value(text: str, field: _Field) -> int:
    if not text:
        raise _BadField("empty")
    if text[0].isdigit():
        return _dotnet_int(text)
    for index, name in enumerate(field.names):
        # CrontabFieldImpl: the first full name that starts with the text, ignoring case.
        if name.lower().startswith(text.lower()):
            return index + field.minimum
    raise _BadField(text)


def _parse_field(text: str, field: _Field) -> frozenset[int]:
    values: set[int] = set()
    _accumulate(text, field, values)
    return frozenset(values)


def _accumulate(text: str, field: _Field, values: set[int]) -> None:
    if not text:
        raise _BadField("empty")
    if text.find(",") > 0:
        for part in text.split(","):
            _accumulate(part, field, values)
        return
    every: int | None = None
    slash = text.find("/")
    if slash > 0:
        every = _dotnet_int(text[slash + 1 :])
        text = text[:slash]
    if text == "*":
        start, end = field.minimum, field.maximum
    else:
        dash = text.find("-")
        if dash > 0:
            start, end = _value(text[:dash], field), _value(text[dash + 1 :], field)
            start, end = min(start, end), max(start, end)
        else:
            start = _value(text, field)
            end = field.maximum if every is not None else start
        if start < field.minimum or end > field.maximum:
            raise _BadField(text)
    step = every if every is not None and every >= 1 else 1
    values.update(range(start, end + 1, step))


@dataclass(frozen=True)
class CronSchedule:
    """An NCRONTAB schedule; occurrences are wall-clock times in the host's time zone."""

    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]
    adjust_for_dst: bool = True

    @classmethod
    def parse(cls, expression: str) -> CronSchedule | None:
        """NCrontab's TryParse: None when the text is not a valid expression."""
        tokens = [t for t in expression.split(" ") if t]
        with_seconds = len(tokens) != 5
        if len(tokens) != (6 if with_seconds else 5):
            return None
        if not with_seconds:
            tokens = ["0", *tokens]
        try:
            parsed = [
                _parse_field(token, field) for token, field in zip(tokens, _FIELDS, strict=True)
            ]
        except _BadField:
            return None
        return cls(expression, *parsed)

    def _croniter_expression(self) -> str:
        def text(values: frozenset[int], field: _Field) -> str:
            if values == field.everything:
                return "*"
            return ",".join(str(v) for v in sorted(values))

        fields = (
            self.seconds,
            self.minutes,
            self.hours,
            self.days,
            self.months,
            self.days_of_week,
        )
        return " ".join(text(v, f) for v, f in zip(fields, _FIELDS, strict=True))

    def next_wall_time(self, after: datetime) -> datetime | None:
        """The next naive wall-clock time strictly after ``after`` (naive)."""
        try:
            found = croniter(
                self._croniter_expression(),
                after.replace(microsecond=0),
                second_at_beginning=True,
                day_or=False,
            ).get_next(datetime)
        except CroniterBadDateError:
            return None  # e.g. 30 February: NCrontab answers its end date, i.e. never
        return found

    def next_occurrence(self, now: datetime, zone: tzinfo) -> datetime | None:
        # CronSchedule.GetNextOccurrence: NCrontab works on the local wall clock, then the
        # local offset of that wall time is applied.
        wall = now.astimezone(zone).replace(tzinfo=None)
        found = self.next_wall_time(wall)
        return None if found is None else found.replace(tzinfo=zone)

    @property
    def is_interval(self) -> bool:
        """CronSchedule.IsInterval: '*', '/' or '-' in one of the first three fields."""
        tokens = [t for t in self.expression.split(" ") if t]
        first = tokens[:3] if len(tokens) == 6 else tokens[:2]
        return any(c in token for token in first for c in "*/-")

    def is_frequent(self) -> bool:
        # TimerSchedule.ShouldDisableScheduleMonitor: every field but seconds is '*' and
        # more than one occurrence falls within a minute.
        rest = zip(
            (self.minutes, self.hours, self.days, self.months, self.days_of_week),
            _FIELDS[1:],
            strict=True,
        )
        return all(values == field.everything for values, field in rest) and (len(self.seconds) > 1)

    def __str__(self) -> str:
        return f"Cron: '{self.expression}'"


# ---------------------------------------------------------------------------------------
# TimeSpan
# ---------------------------------------------------------------------------------------

_TIMESPAN = re.compile(
    r"^[ \t]*(?P<sign>-)?(?:"
    r"(?P<days_only>[0-9]+)"
    r"|(?:(?P<days>[0-9]+)\.)?(?P<hours>[0-9]+):(?P<minutes>[0-9]+)"
    r"(?::(?P<seconds>[0-9]+)(?:\.(?P<fraction>[0-9]{1,7}))?)?"
    r"|(?P<g_days>[0-9]+):(?P<g_hours>[0-9]+):(?P<g_minutes>[0-9]+):(?P<g_seconds>[0-9]+)"
    r"(?:\.(?P<g_fraction>[0-9]{1,7}))?"
    r")[ \t]*$"
)
_MAX_DAYS = 10675199  # TimeSpan.MaxValue.Days


def parse_timespan(text: str) -> timedelta | None:
    """``TimeSpan.TryParse`` for the invariant formats; None when it would fail."""
    match = _TIMESPAN.match(text)
    if match is None:
        return None
    if match["days_only"] is not None:
        days = int(match["days_only"])
        if days > _MAX_DAYS:
            return None
        span = timedelta(days=days)
    else:
        g = "g_" if match["g_days"] is not None else ""
        days = int(match[g + "days"] or 0)
        hours, minutes = int(match[g + "hours"]), int(match[g + "minutes"])
        seconds = int(match[g + "seconds"] or 0)
        if days > _MAX_DAYS or hours > 23 or minutes > 59 or seconds > 59:
            return None
        fraction = (match[g + "fraction"] or "").ljust(7, "0")
        span = timedelta(
            days=days,
            hours=hours,
            minutes=minutes,
            seconds=seconds,
            microseconds=int(fraction) // 10,
        )
    return -span if match["sign"] else span


def format_timespan(span: timedelta) -> str:
    """``TimeSpan.ToString()``: ``[-][d.]hh:mm:ss[.fffffff]``."""
    sign = "-" if span < timedelta(0) else ""
    span = abs(span)
    hours, rest = divmod(span.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    if span.days:
        text = f"{span.days}.{text}"
    if span.microseconds:
        text += f".{span.microseconds * 10:07d}"
    return sign + text


@dataclass(frozen=True)
class ConstantSchedule:
    """A TimeSpan schedule: ``now + interval`` in absolute time (ConstantSchedule.cs)."""

    interval: timedelta
    adjust_for_dst: bool = False

    def next_occurrence(self, now: datetime, zone: tzinfo) -> datetime | None:
        return (now + self.interval).astimezone(zone)

    def is_frequent(self) -> bool:
        # TimerSchedule.Create: a constant schedule under a minute gets no monitor.
        return self.interval < timedelta(minutes=1)

    def __str__(self) -> str:
        return f"Constant: {format_timespan(self.interval)}"


# ---------------------------------------------------------------------------------------


def parse_schedule(expression: str, environ: Mapping[str, str]) -> CronSchedule | ConstantSchedule:
    """The schedule of a ``timerTrigger`` binding, as ``TimerSchedule.Create`` builds it.

    Raises ScheduleError with the extension's message when it is neither.
    """
    resolved = resolve_settings(expression, environ)
    cron = CronSchedule.parse(resolved)
    if cron is not None:
        return cron
    span = parse_timespan(resolved)
    if span is not None:
        if span <= timedelta(0):
            # The real host accepts it and then fires back to back without pause; refusing
            # it is this host's one deliberate difference (docs/host.md).
            raise ScheduleError(
                f"The schedule expression '{resolved}' is a TimeSpan of zero or less: this "
                "host does not run a timer that fires back to back."
            )
        return ConstantSchedule(span)
    raise ScheduleError(
        f"The schedule expression '{resolved}' was not recognized as a valid cron "
        "expression or timespan string."
    )
