"""What each blob records about its source file, and how a re-run compares it.

Metadata keys follow rclone (``mtime`` as RFC 3339 with nanoseconds), so other tools read
them too. The blob's own size and Content-MD5 hold the size and checksum of the content.
"""

from __future__ import annotations

from datetime import UTC, datetime

MTIME = "mtime"
SIZE = "size"


def format_mtime(mtime_ns: int) -> str:
    """``2024-05-01T10:00:00.123456789Z`` (UTC, always nine fractional digits)."""
    seconds, nanos = divmod(mtime_ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def for_file(size: int, mtime_ns: int) -> dict[str, str]:
    return {SIZE: str(size), MTIME: format_mtime(mtime_ns)}


def describes(metadata: dict[str, str] | None, size: int, mtime_ns: int) -> bool:
    """True when the metadata records exactly this size and mtime."""
    if not metadata:
        return False
    return metadata.get(SIZE) == str(size) and metadata.get(MTIME) == format_mtime(mtime_ns)
