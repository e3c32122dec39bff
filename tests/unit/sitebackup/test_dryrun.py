"""The dry-run report's counts, samples and deleted paths, built one file at a time (pure)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sitebackup import dryrun


@dataclass
class Ref:
    run_id: str = "20261129T230000Z-abc"
    ended_ms: int = 1_800_000_000_000


@dataclass
class E:
    path: str
    size: int = 1


LISTING = {
    "skippedCount": 1,
    "skipped": [{"path": "link", "reason": "symlink loop"}],
    "rules": {"excludedFiles": 3, "excludedDirs": 1},
}


def test_counts_bytes_and_paths_per_kind():
    tally = dryrun.Tally()
    for kind, path, size in [
        ("new", "a.html", 10),
        ("changed", "b.html", 5),
        ("new", "c.html", 7),
        ("unchanged", "d.html", 400),
    ]:
        tally.add(kind, path, size)
    report = tally.report("backups", "www", LISTING, ["x.log", "cache/", "y.log"], 30)
    assert report["dryRun"] is True
    assert report["copy"] == {
        "new": {"files": 2, "bytes": 17},
        "changed": {"files": 1, "bytes": 5},
    }
    assert report["skip"]["unchanged"] == {"files": 1, "bytes": 400}
    assert report["skip"]["excluded"] == {"files": 3, "dirs": 1, "bytes": 30}
    assert report["skip"]["other"] == {"entries": 1}
    assert report["paths"] == {
        "new": ["a.html", "c.html"],
        "changed": ["b.html"],
        "unchanged": ["d.html"],
        "excluded": ["x.log", "cache/", "y.log"],
    }
    assert report["pathsOmitted"] == {"new": 0, "changed": 0, "unchanged": 0, "excluded": 1}
    assert report["deleted"] is None


def test_paths_are_bounded_but_counts_exact():
    tally = dryrun.Tally()
    extra = 5
    for i in range(dryrun.MAX_PATHS_LISTED + extra):
        tally.add("new", f"f{i:05d}", 2)
    report = tally.report("c", "p", {})
    assert report["copy"]["new"] == {
        "files": dryrun.MAX_PATHS_LISTED + extra,
        "bytes": 2 * (dryrun.MAX_PATHS_LISTED + extra),
    }
    assert report["paths"]["new"] == [f"f{i:05d}" for i in range(dryrun.MAX_PATHS_LISTED)]
    assert report["pathsOmitted"]["new"] == extra


def test_deleted_are_the_last_snapshots_paths_the_walk_no_longer_saw():
    previous = [E("a"), E("gone", 7), E("b"), E("old/x", 3)]
    tracker = dryrun.DeletedTracker(iter(previous), Ref())
    for path in ["a", "b", "new"]:
        tracker.see(path)
    assert tracker.report(iter(previous)) == {
        "files": 2,
        "bytes": 10,
        "since": Ref.run_id,
        "sinceEndedMs": Ref.ended_ms,
        "paths": ["gone", "old/x"],
        "pathsOmitted": 0,
    }


def test_deleted_counts_stay_exact_past_the_sample():
    rng = random.Random(7)
    previous = [E(f"dir{i % 13}/file{i}") for i in range(dryrun.MAX_PATHS_LISTED * 3)]
    kept = set(rng.sample([entry.path for entry in previous], len(previous) // 2))
    tracker = dryrun.DeletedTracker(iter(previous), Ref())
    for path in sorted(kept):
        tracker.see(path)
    report = tracker.report(iter(previous))
    expected = [entry.path for entry in previous if entry.path not in kept]
    assert report["files"] == len(expected)
    assert report["paths"] == expected[: dryrun.MAX_PATHS_LISTED]
    assert report["pathsOmitted"] == len(expected) - dryrun.MAX_PATHS_LISTED
