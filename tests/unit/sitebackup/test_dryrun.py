"""The dry-run report from a listing (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from sitebackup import dryrun


@dataclass
class Ref:
    run_id: str = "20261129T230000Z-abc"
    ended_ms: int = 1_800_000_000_000


LISTING = {
    "files": [
        {"path": "a.html", "size": 10, "mtimeNs": 1, "new": True},
        {"path": "b.html", "size": 5, "mtimeNs": 1},
        {"path": "c.html", "size": 7, "mtimeNs": 1, "new": True},
    ],
    "unchangedCount": 4,
    "unchangedBytes": 400,
    "skippedCount": 1,
    "skipped": [{"path": "link", "reason": "symlink loop"}],
    "rules": {"excludedFiles": 3, "excludedDirs": 1},
}


def test_new_and_changed_are_told_apart_by_the_listing_mark():
    report = dryrun.report(LISTING, "backups", "www")
    assert report["dryRun"] is True
    assert report["copy"] == {
        "new": {"files": 2, "bytes": 17},
        "changed": {"files": 1, "bytes": 5},
    }
    assert report["skip"]["unchanged"] == {"files": 4, "bytes": 400}
    assert report["skip"]["excluded"] == {"files": 3, "dirs": 1}
    assert report["skip"]["other"] == {"entries": 1}
    assert report["paths"] == {"new": ["a.html", "c.html"], "changed": ["b.html"]}
    assert report["deleted"] is None


def test_paths_are_bounded_but_counts_exact():
    files = [{"path": f"f{i}", "size": 1, "new": True} for i in range(dryrun.MAX_PATHS_LISTED + 5)]
    report = dryrun.report({"files": files}, "c", "p")
    assert report["copy"]["new"]["files"] == dryrun.MAX_PATHS_LISTED + 5
    assert len(report["paths"]["new"]) == dryrun.MAX_PATHS_LISTED


def test_deleted_are_the_last_snapshots_paths_the_listing_no_longer_has():
    deleted = dryrun.deleted_since(["a", "gone", "b", "old/x"], ["a", "b", "new"], Ref())
    assert deleted == {
        "files": 2,
        "since": Ref.run_id,
        "sinceEndedMs": Ref.ended_ms,
        "paths": ["gone", "old/x"],
    }
