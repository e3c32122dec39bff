"""What a dry run reports: the files a real run would copy and skip (pure).

A dry run lists and compares exactly as a backup does, then stops before the copies. Its
orchestration output is this report (an object with ``"dryRun": true``) instead of the
byte count a real run returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from sitebackup.summary import clip

# Paths listed per kind in the report (the counts stay exact).
MAX_PATHS_LISTED = 100


class SnapshotLike(Protocol):
    run_id: str
    ended_ms: int


def deleted_since(
    previous: Iterable[str], current: Iterable[str], snapshot: SnapshotLike
) -> dict[str, Any]:
    """The paths of the last snapshot that the current listing no longer has."""
    present = set(current)
    gone = [path for path in previous if path not in present]
    return {
        "files": len(gone),
        "since": snapshot.run_id,
        "sinceEndedMs": snapshot.ended_ms,
        "paths": [clip(path) for path in gone[:MAX_PATHS_LISTED]],
    }


def _count(entries: list[dict[str, Any]]) -> dict[str, int]:
    return {"files": len(entries), "bytes": sum(entry["size"] for entry in entries)}


def report(
    listing: dict[str, Any], container: str, prefix: str, deleted: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The dry-run report from the listing activity's result.

    ``files`` in the listing holds what a real run would hand to the copies: ``"new": true``
    marks files without a blob, the others differ from their blob (or were not compared
    because the listing's hashing budget ran out; the copy decides those, so they count as
    changed here).
    """
    to_copy = listing.get("files") or []
    new = [entry for entry in to_copy if entry.get("new") is True]
    changed = [entry for entry in to_copy if entry.get("new") is not True]
    rules = listing.get("rules") or {}
    return {
        "dryRun": True,
        "container": container,
        "prefix": prefix,
        "copy": {"new": _count(new), "changed": _count(changed)},
        "skip": {
            "unchanged": {
                "files": int(listing.get("unchangedCount") or 0),
                "bytes": int(listing.get("unchangedBytes") or 0),
            },
            "excluded": {
                "files": int(rules.get("excludedFiles") or 0),
                "dirs": int(rules.get("excludedDirs") or 0),
            },
            # Entries the walk could not or would not back up (links out of the tree,
            # special files, unreadable folders): listed under "skipped".
            "other": {"entries": int(listing.get("skippedCount") or 0)},
        },
        "deleted": deleted,
        "paths": {
            "new": [clip(entry["path"]) for entry in new[:MAX_PATHS_LISTED]],
            "changed": [clip(entry["path"]) for entry in changed[:MAX_PATHS_LISTED]],
        },
        "skipped": list(listing.get("skipped") or [])[:MAX_PATHS_LISTED],
        "rules": rules,
    }
