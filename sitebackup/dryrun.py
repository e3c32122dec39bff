"""What a dry run reports: the files a real run would copy and skip, bounded (pure).

A dry run lists and compares exactly as a backup does, then stops before the copies. Its
orchestration output is this report (an object with ``"dryRun": true``) instead of the
byte count a real run returns. The listing activity builds it while the walk streams, so
neither the activity nor the orchestration history ever holds the tree: every category has
exact counts (and bytes), and at most ``MAX_PATHS_LISTED`` paths as a sample, the first in
blob-name order, with ``pathsOmitted`` saying how many more there were.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any, Protocol

from sitebackup.summary import clip

# Paths listed per kind in the report (the counts stay exact).
MAX_PATHS_LISTED = 1000
KINDS = ("new", "changed", "unchanged", "excluded", "deleted")


class SnapshotLike(Protocol):
    run_id: str
    ended_ms: int


class EntryLike(Protocol):
    path: str
    size: int


class Sample:
    """Exact counts and bytes of one kind, with its first paths."""

    def __init__(self, limit: int = MAX_PATHS_LISTED) -> None:
        self.files = 0
        self.bytes = 0
        self.paths: list[str] = []
        self.limit = limit

    def add(self, path: str, size: int = 0) -> None:
        self.files += 1
        self.bytes += size
        if len(self.paths) < self.limit:
            self.paths.append(clip(path))

    def counts(self) -> dict[str, int]:
        return {"files": self.files, "bytes": self.bytes}

    @property
    def omitted(self) -> int:
        return self.files - len(self.paths)


def _path_key(path: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big"
    )


class DeletedTracker:
    """Which paths of the last snapshot the current walk no longer has, in bounded memory.

    Holds 9 bytes per file of that snapshot (a sorted array of 64-bit path hashes and one
    "seen" byte), not the paths; the paths of the deleted files are found again by reading
    the snapshot's pages a second time. Two paths sharing a 64-bit hash (odds about 1 in
    10^7 for a million files) would make one deleted file count as present: a dry run's
    report is a preview, and the real run's snapshot counts exactly.
    """

    def __init__(self, previous: Iterable[EntryLike], snapshot: SnapshotLike) -> None:
        self.snapshot = snapshot
        self._keys = array("Q", sorted(_path_key(entry.path) for entry in previous))
        self._seen = bytearray(len(self._keys))

    def see(self, path: str) -> None:
        key = _path_key(path)
        index = bisect_left(self._keys, key)
        while index < len(self._keys) and self._keys[index] == key:
            self._seen[index] = 1
            index += 1

    def _gone(self, path: str) -> bool:
        index = bisect_left(self._keys, _path_key(path))
        return index < len(self._keys) and not self._seen[index]

    def report(self, previous_again: Iterable[EntryLike]) -> dict[str, Any]:
        """The report's ``deleted`` section; ``previous_again`` reads the snapshot again."""
        sample = Sample()
        if self._seen.count(0):
            for entry in previous_again:
                if self._gone(entry.path):
                    sample.add(entry.path, entry.size)
        return {
            **sample.counts(),
            "since": self.snapshot.run_id,
            "sinceEndedMs": self.snapshot.ended_ms,
            "paths": sample.paths,
            "pathsOmitted": sample.omitted,
        }


class Tally:
    """The dry run's counts and samples, fed one file at a time by the listing."""

    def __init__(self) -> None:
        self.kinds = {kind: Sample() for kind in ("new", "changed", "unchanged")}

    def add(self, kind: str, path: str, size: int) -> None:
        self.kinds[kind].add(path, size)

    def report(
        self,
        container: str,
        prefix: str,
        listing: dict[str, Any],
        excluded: Iterable[str] = (),
        excluded_bytes: int = 0,
        deleted: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The report: ``listing`` is the listing activity's result (skipped, rules)."""
        rules = listing.get("rules") or {}
        excluded_files = int(rules.get("excludedFiles") or 0)
        excluded_dirs = int(rules.get("excludedDirs") or 0)
        excluded_paths = [clip(path) for path in list(excluded)[:MAX_PATHS_LISTED]]
        new, changed, unchanged = (self.kinds[kind] for kind in ("new", "changed", "unchanged"))
        return {
            "dryRun": True,
            "container": container,
            "prefix": prefix,
            "copy": {"new": new.counts(), "changed": changed.counts()},
            "skip": {
                "unchanged": unchanged.counts(),
                "excluded": {
                    "files": excluded_files,
                    "dirs": excluded_dirs,
                    # Of the excluded files only: an excluded folder is not walked.
                    "bytes": excluded_bytes,
                },
                # Entries the walk could not or would not back up (links out of the tree,
                # special files, unreadable folders): listed under "skipped".
                "other": {"entries": int(listing.get("skippedCount") or 0)},
            },
            "deleted": deleted,
            "paths": {
                "new": new.paths,
                "changed": changed.paths,
                "unchanged": unchanged.paths,
                "excluded": excluded_paths,
            },
            "pathsOmitted": {
                "new": new.omitted,
                "changed": changed.omitted,
                "unchanged": unchanged.omitted,
                "excluded": max(0, excluded_files + excluded_dirs - len(excluded_paths)),
            },
            "skipped": list(listing.get("skipped") or [])[:MAX_PATHS_LISTED],
            "rules": rules,
        }
