"""What prune may delete, item by item (pure); each case is worked out by hand."""

from __future__ import annotations

import pytest

from sitebackup.prune import sweep
from sitebackup.prune.sweep import Item

A, B, C = b"a" * 16, b"b" * 16, b"c" * 16
OLD, CUTOFF, NEW = 1_000, 5_000, 9_000


def base(md5: bytes, modified: int = OLD) -> Item:
    return Item("www/f", None, md5, 10, modified)


def snap(stamp: str, md5: bytes, modified: int = OLD) -> Item:
    return Item("www/f", stamp, md5, 10, modified)


def test_a_base_blob_goes_only_when_no_kept_snapshot_lists_its_name() -> None:
    assert sweep.deletable(base(A), {}, CUTOFF)
    assert not sweep.deletable(base(A), {"www/f": frozenset({B})}, CUTOFF)
    # Written after the newest snapshot started: maybe by a backup running now.
    assert not sweep.deletable(base(A, NEW), {}, CUTOFF)


def test_a_snapshot_goes_unless_it_is_the_one_that_holds_a_kept_md5() -> None:
    s1, s2, s3 = (
        snap("2026-01-01T00:00:01Z", A),
        snap("2026-01-02T00:00:01Z", A),
        snap("2026-01-03T00:00:01Z", B),
    )
    versions = [s1, s2, s3, base(C)]
    needed = {"www/f": frozenset({A})}
    # A is kept; the base holds C, so the newest snapshot with A (s2) stays, s1 duplicates it.
    assert sweep.needs_versions(s1, needed) and sweep.needs_versions(s2, needed)
    assert sweep.deletable(s1, needed, CUTOFF, versions)
    assert not sweep.deletable(s2, needed, CUTOFF, versions)
    # B is needed by no kept snapshot.
    assert not sweep.needs_versions(s3, needed)
    assert sweep.deletable(s3, needed, CUTOFF)
    # When the base holds A again, no snapshot of A is needed.
    assert sweep.deletable(s2, needed, CUTOFF, [s1, s2, s3, base(A)])
    # A snapshot taken after the cutoff stays, whatever it holds.
    assert not sweep.deletable(snap("2026-01-04T00:00:00Z", B, NEW), needed, CUTOFF)


def test_deciding_on_a_needed_snapshot_without_its_versions_is_an_error() -> None:
    with pytest.raises(ValueError):
        sweep.deletable(snap("2026-01-01T00:00:00Z", A), {"www/f": frozenset({A})}, CUTOFF)


def test_snapshot_ids_read_as_times() -> None:
    assert sweep.snapshot_ms("1970-01-01T00:00:01.5000000Z") == 1500
    assert sweep.snapshot_ms("1970-01-01T00:00:02Z") == 2000
