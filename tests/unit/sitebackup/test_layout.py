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


def test_a_snapshot_key_gives_back_its_run_id_and_time() -> None:
    name = layout.snapshot_blob("backups", "www/site", 1_764_458_160_000, "20261129T2315Z-ab-cd")
    assert name.startswith(layout.snapshots_folder("backups", "www/site"))
    key = layout.key_of_blob(name)
    assert layout.run_id_of(key) == "20261129T2315Z-ab-cd"
    assert layout.ended_ms_of(key) == 1_764_458_160_000


def test_run_pages_live_in_their_run_folder_and_sort_by_index() -> None:
    names = [layout.run_page("b", "p", "r1", layout.STORED_PAGE, index) for index in (0, 9, 10)]
    assert all(name.startswith(layout.run_folder("b", "p", "r1")) for name in names)
    assert sorted(names) == names
