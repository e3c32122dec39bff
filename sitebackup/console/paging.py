"""Newest-first pages of orchestration instances, in bounded requests (pure, fetch injected).

The durable list API pages in the storage provider's own order (by instance id in Azure
Storage, by creation time on the local host), never newest first. So a page walks back in
time: it lists the instances created in a window before the cursor, widening the window
until it has found enough, and sorts what it found. Every instance created in a window that
has been listed whole is known, so the newest ``limit`` of them are the next page. A window
holding more than ``WINDOW_CAP`` instances is narrowed instead, so no request reads more
than a few thousand statuses whatever the task hub holds.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# Instances one window may hold before it is narrowed (the durable API lists 500 a request).
WINDOW_CAP = 2000
FIRST_WINDOW = timedelta(minutes=10)
GROWTH = 4
NARROWING = 16
SMALLEST_WINDOW = timedelta(seconds=1)
# Nothing older is looked for: the durable host did not exist then.
FLOOR = datetime(2015, 1, 1, tzinfo=UTC)


class TooMany(Exception):
    """A window holds more than the fetcher may read; ``partial`` is what it read."""

    def __init__(self, partial: list[dict[str, Any]]):
        super().__init__(f"more than {len(partial)} instances in one window")
        self.partial = partial


# (id prefix, created from, created to, runtime statuses) -> the statuses of that window.
Fetch = Callable[[str, datetime, datetime, Sequence[str]], Awaitable[list[dict[str, Any]]]]


@dataclass(frozen=True)
class Cursor:
    created: str  # the createdTime of the last instance shown (ISO, seconds, "Z")
    instance_id: str

    def encode(self) -> str:
        raw = json.dumps([self.created, self.instance_id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Raises ValueError for anything this module did not make."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            created, instance_id = json.loads(raw)
            parse_time(created)
        except (ValueError, TypeError) as exc:
            raise ValueError("the cursor is not one this console made; reload the list") from exc
        if not isinstance(instance_id, str):
            raise ValueError("the cursor is not one this console made; reload the list")
        return cls(created, instance_id)


@dataclass
class Page:
    items: list[dict[str, Any]]
    next: Cursor | None
    scanned: int = 0
    # True when more instances were created within one second than a window may read.
    truncated: bool = False
    windows: list[tuple[str, str]] = field(default_factory=list)


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (``Z`` or an offset; none means UTC); ValueError for anything else."""
    if not isinstance(text, str):
        raise ValueError(f"not a time: {text!r}")
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _key(item: dict[str, Any]) -> tuple[str, str]:
    return (str(item.get("createdTime") or ""), str(item.get("instanceId") or ""))


async def newest_first(
    fetch: Fetch,
    prefixes: Sequence[str],
    *,
    limit: int,
    now: datetime,
    cursor: Cursor | None = None,
    statuses: Sequence[str] = (),
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    keep: Callable[[dict[str, Any]], bool] = lambda item: True,
) -> Page:
    """The next ``limit`` instances (newest first) that ``keep`` accepts, and the next cursor."""
    floor = max(created_from or FLOOR, FLOOR)
    top = created_to or now + timedelta(minutes=1)
    if cursor is not None:
        # Created times are shown to the second: the cursor's whole second is listed again
        # and the instances at or after the cursor are dropped below.
        top = min(top, parse_time(cursor.created) + timedelta(seconds=1))
    after = (
        _key({"createdTime": cursor.created, "instanceId": cursor.instance_id}) if cursor else None
    )
    found: dict[str, dict[str, Any]] = {}
    page = Page(items=[], next=None)
    width = FIRST_WINDOW
    high = top
    while high > floor:
        low = max(high - width, floor)
        try:
            listed = []
            for prefix in prefixes:
                listed.extend(await fetch(prefix, low, high, statuses))
        except TooMany as exc:
            if width > SMALLEST_WINDOW:
                width = max(width / NARROWING, SMALLEST_WINDOW)
                continue
            listed, page.truncated = exc.partial, True
        page.windows.append((low.isoformat(), high.isoformat()))
        page.scanned += len(listed)
        for item in listed:
            instance_id = item.get("instanceId")
            if not isinstance(instance_id, str) or instance_id in found:
                continue
            if after is not None and _key(item) >= after:
                continue
            if keep(item):
                found[instance_id] = item
        high = low
        if len(found) >= limit:
            break
        width *= GROWTH
    ordered = sorted(found.values(), key=_key, reverse=True)
    page.items = ordered[:limit]
    if page.items and (len(ordered) > limit or high > floor):
        last = page.items[-1]
        page.next = Cursor(str(last["createdTime"]), str(last["instanceId"]))
    return page
