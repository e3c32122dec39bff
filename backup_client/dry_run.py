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
            format_bytes(_int(excluded.get("bytes"))) if "bytes" in excluded else "",
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
        size = format_bytes(_int(deleted.get("bytes"))) if "bytes" in deleted else ""
        result.append(Row("deleted", why, _int(deleted.get("files")), size))
    return result


def _files_of(report: Mapping[str, Any], kind: str) -> int:
    section = {
        "new": ("copy", "new"),
        "changed": ("copy", "changed"),
        "excluded": ("skip", "excluded"),
        "deleted": ("deleted",),
    }[kind]
    counts = _section(report, *section)
    total = _int(counts.get("files"))
    return total + (_int(counts.get("dirs")) if kind == "excluded" else 0)


def examples(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(kind, path) for the first new, changed, excluded and deleted paths the report names,
    then a line saying how many more there are (the report itself holds a bounded sample)."""
    paths = _section(report, "paths")
    shown: list[tuple[str, str]] = []
    for kind in ("new", "changed", "excluded", "deleted"):
        items = _section(report, "deleted").get("paths") if kind == "deleted" else paths.get(kind)
        if not isinstance(items, list):
            continue
        listed = [(kind, str(item)) for item in items[:PATHS_SHOWN]]
        more = _files_of(report, kind) - len(listed)
        shown += listed + ([(kind, f"... and {more:,} more")] if listed and more > 0 else [])
    return shown
