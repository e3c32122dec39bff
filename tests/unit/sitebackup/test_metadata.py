"""The mtime in blob metadata: RFC 3339 for real dates, any 64-bit time without failing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sitebackup.metadata import describes, for_file, format_mtime

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _expected(seconds: int, nanos: int) -> str:
    moment = EPOCH + timedelta(seconds=seconds)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{nanos:09d}Z"
    )


def test_dates_datetime_can_hold_come_out_as_rfc3339():
    chooser = random.Random(7)
    first = int((datetime(1, 1, 1, tzinfo=UTC) - EPOCH).total_seconds())
    last = int((datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - EPOCH).total_seconds())
    for seconds in [
        first,
        last,
        0,
        -1,
        951_782_400,
        *(chooser.randint(first, last) for _ in range(5000)),
    ]:
        nanos = chooser.randint(0, 999_999_999)
        assert format_mtime(seconds * 1_000_000_000 + nanos) == _expected(seconds, nanos)


def test_times_beyond_the_year_9999_or_before_the_year_1_do_not_fail():
    last = int((datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - EPOCH).total_seconds())
    assert format_mtime((last + 1) * 1_000_000_000) == "10000-01-01T00:00:00.000000000Z"
    assert format_mtime(2**63 - 1).startswith("2262-04-11T")  # the largest st_mtime_ns of int64 ns
    huge = 2**80
    assert describes(for_file(3, huge), 3, huge) and not describes(for_file(3, huge), 3, huge + 1)
    first = int((datetime(1, 1, 1, tzinfo=UTC) - EPOCH).total_seconds())
    assert format_mtime((first - 1) * 1_000_000_000) == "0000-12-31T23:59:59.000000000Z"
    assert format_mtime((first - 367 * 86_400) * 1_000_000_000).startswith("-0001-12-31T")
