"""The meta container's names: one folder per destination, snapshots newest first."""

from __future__ import annotations

from sitebackup import layout


def test_destinations_never_share_a_folder() -> None:
    cases = [
        ("backups", ""),
        ("backups", "www"),
        ("backups", "www/site"),
        ("backups", "www%2Fsite"),
    ]
    folders = [layout.destination_folder(c, p) for c, p in cases]
    assert len(set(folders)) == len(cases)
    for (container, prefix), folder in zip(cases, folders, strict=True):
        assert folder.endswith("/")
        # One segment for the container, one for the prefix, whatever the prefix holds.
        assert folder.count("/") == 2
        assert layout.parse_destination_folder(folder) == (container, prefix)


def test_snapshot_keys_sort_newest_first() -> None:
    times = [1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000, 5]
    keys = [layout.snapshot_key(ms, f"run{ms}") for ms in times]
    by_name = sorted(keys)
    assert [layout.ended_ms_of(key) for key in by_name] == sorted(times, reverse=True)
