"""What each blob records about its source file, and how a re-run compares it.

Metadata keys follow rclone (``mtime`` as RFC 3339 with nanoseconds), so other tools read
them too. The blob's own size and Content-MD5 hold the size and checksum of the content.

The date is computed with integer arithmetic, not ``datetime``: a file system can hold any
64-bit time (tmpfs, btrfs, ZFS and SMB shares do), and ``datetime`` stops at the year 9999,
which made one such file fail every run. Years 0-9999 come out exactly as RFC 3339; others
get as many digits as they need (and a sign before the year 0), which no real date reaches.
"""

from __future__ import annotations

MTIME = "mtime"
SIZE = "size"

_NS = 1_000_000_000
_DAY = 86_400


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) of the proleptic Gregorian calendar, ``days`` after 1970-01-01.

    The era-based algorithm of Howard Hinnant's "chrono-compatible low-level date
    algorithms": exact for every integer, no range limit.
    """
    days += 719_468
    era = days // 146_097
    day_of_era = days - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + 3 if shifted_month < 10 else shifted_month - 9
    year = year_of_era + era * 400 + (1 if month <= 2 else 0)
    return year, month, day


def format_mtime(mtime_ns: int) -> str:
    """``2024-05-01T10:00:00.123456789Z`` (UTC, always nine fractional digits), any mtime."""
    seconds, nanos = divmod(mtime_ns, _NS)
    days, second_of_day = divmod(seconds, _DAY)
    year, month, day = _civil_from_days(days)
    hour, rest = divmod(second_of_day, 3600)
    minute, second = divmod(rest, 60)
    year_text = f"{year:04d}" if year >= 0 else f"-{-year:04d}"
    return f"{year_text}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{nanos:09d}Z"


def for_file(size: int, mtime_ns: int) -> dict[str, str]:
    return {SIZE: str(size), MTIME: format_mtime(mtime_ns)}


def describes(metadata: dict[str, str] | None, size: int, mtime_ns: int) -> bool:
    """True when the metadata records exactly this size and mtime."""
    if not metadata:
        return False
    return metadata.get(SIZE) == str(size) and metadata.get(MTIME) == format_mtime(mtime_ns)
