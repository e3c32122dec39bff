"""A dry run's report (the orchestration output of ``"dryRun": true``) as table rows (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backup_client.progress import format_bytes

PATHS_SHOWN = 10


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _section(report: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    value: Any = report
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class Row:
    action: str  # "copy", "skip" or "deleted"
    why: str
    files: int | None
    size: str

    def cells(self) -> tuple[str, str, str, str]:
        return (self.action, self.why, "" if self.files is None else f"{self.files:,}", self.size)


def is_report(output: Any) -> bool:
    return isinstance(output, Mapping) and output.get("dryRun") is True


def rows(report: Mapping[str, Any]) -> list[Row]:
    """What a real run would do, one row per kind of file."""
    new = _section(report, "copy", "new")
    changed = _section(report, "copy", "changed")
    unchanged = _section(report, "skip", "unchanged")
    excluded = _section(report, "skip", "excluded")
    other = _section(report, "skip", "other")
    result = [
        Row("copy", "new", _int(new.get("files")), format_bytes(_int(new.get("bytes")))),
        Row(
            "copy", "changed", _int(changed.get("files")), format_bytes(_int(changed.get("bytes")))
        ),
        Row(
            "skip",
            "unchanged",
            _int(unchanged.get("files")),
            format_bytes(_int(unchanged.get("bytes"))),
        ),
        Row(
            "skip",
            "excluded by rules"
            + (f" (+ {_int(excluded.get('dirs')):,} folders)" if excluded.get("dirs") else ""),
            _int(excluded.get("files")),
            "",
        ),
    ]
    if _int(other.get("entries")):
        result.append(
            Row(
                "skip", "not backed up (links, special, unreadable)", _int(other.get("entries")), ""
            )
        )
    deleted = report.get("deleted")
    if isinstance(deleted, Mapping):
        since = deleted.get("since")
        why = f"gone since snapshot {since}" if since else "gone since the last snapshot"
        result.append(Row("deleted", why, _int(deleted.get("files")), ""))
    return result


def examples(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(kind, path) for the first new, changed and deleted files the report names."""
    paths = _section(report, "paths")
    shown: list[tuple[str, str]] = []
    for kind in ("new", "changed"):
        items = paths.get(kind)
        if isinstance(items, list):
            shown += [(kind, str(item)) for item in items[:PATHS_SHOWN]]
    deleted = _section(report, "deleted").get("paths")
    if isinstance(deleted, list):
        shown += [("deleted", str(item)) for item in deleted[:PATHS_SHOWN]]
    return shown
