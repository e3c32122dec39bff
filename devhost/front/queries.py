"""Query-string parsing with .NET's leniency: an invalid value is ignored, not an error.

ASP.NET's query collection is case-insensitive, ``bool.TryParse`` and ``Enum.TryParse`` skip
what they do not know; the durable HTTP API's answers depend on that.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

from aiohttp import web

from devhost.contracts import RuntimeStatus


def query_bool(query: Mapping[str, str], name: str, default: bool) -> bool:
    """``bool.TryParse``: "true"/"false" in any case, anything else gives the default."""
    value = query_value(query, name)
    if value is None:
        return default
    text = value.strip().lower()
    return {"true": True, "false": False}.get(text, default)


def query_int(query: Mapping[str, str], name: str) -> int | None:
    value = query_value(query, name)
    try:
        return int(value.strip()) if value is not None else None
    except ValueError:
        return None


def query_seconds(query: Mapping[str, str], name: str) -> float | None:
    value = query_value(query, name)
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) else None


def query_datetime(query: Mapping[str, str], name: str) -> datetime | None:
    value = query_value(query, name)
    if not value:
        return None
    text = value.strip()
    if "T" not in text:
        text = text.replace(" ", "T", 1)
    date, sep, clock = text.partition("T")
    # An unencoded "+01:00" offset arrives as " 01:00" after query-string decoding.
    text = date + sep + clock.replace(" ", "+")
    head, sep, _ = text.partition("-")
    if sep and head.isdigit() and len(head) < 4:
        text = head.zfill(4) + text[len(head) :]  # Python's strftime may drop the zeros
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def query_statuses(query: web.Request | Mapping[str, str], name: str) -> frozenset[RuntimeStatus]:
    """Comma-separated or repeated enum names; unknown names are skipped (Enum.TryParse)."""
    values: list[str] = []
    getall = getattr(query, "getall", None)
    for key in list(query.keys()):
        if key.lower() != name.lower():
            continue
        values.extend(getall(key) if getall else [query[key]])
        break
    found: set[RuntimeStatus] = set()
    for value in values:
        for part in value.split(","):
            try:
                found.add(RuntimeStatus(part.strip()))
            except ValueError:
                continue
    return frozenset(found)


def query_value(query: Mapping[str, str], name: str) -> str | None:
    # ASP.NET's query collection is case-insensitive.
    if name in query:
        return query[name]
    lowered = name.lower()
    for key in query:
        if key.lower() == lowered:
            return query[key]
    return None
