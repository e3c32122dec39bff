"""Ratios and targets: rows in, verdicts out."""

from __future__ import annotations

import pytest

from bench.results import (
    AZ_CLI,
    CEILING,
    ENGINE,
    ENGINE_PARTITIONED,
    OURS,
    RCLONE,
    RERUN,
    Row,
)
from bench.targets import evaluate, ratio, scaling, speedup

MiB = 1024 * 1024


def row(tree: str, kind: str, items: int, seconds: float | None, **extra) -> Row:
    return Row(tree, kind, f"{tree} {kind}", items, seconds=seconds, **extra)


def by_key(rows: list[Row]) -> dict[str, object]:
    return {t.key: t for t in evaluate(rows)}


def test_ratio_uses_files_or_bytes_per_second() -> None:
    ceiling = row("A", CEILING, 2000, 4.0, bytes=2000 * 16384)  # 500 files/s
    ours = row("A", OURS, 2000, 5.0, bytes=2000 * 16384)  # 400 files/s
    assert ratio(ours, ceiling, "files/s") == pytest.approx(0.8)
    assert ratio(ours, ceiling, "MiB/s") == pytest.approx(0.8)
    assert ratio(ours, None, "files/s") is None
    assert ratio(row("A", OURS, 2000, None), ceiling, "files/s") is None


def test_tree_ratio_targets_are_met_at_the_threshold_and_not_below() -> None:
    rows = [
        row("A", CEILING, 2000, 4.0),
        row("A", OURS, 2000, 5.0),  # 0.8x: met (inclusive)
        row("B", CEILING, 200, 1.0, bytes=200 * MiB),
        row("B", OURS, 200, 1.2, bytes=200 * MiB),  # 0.83x: not met
        row("C", CEILING, 2, 5.0, bytes=512 * MiB),
        row("C", OURS, 2, 5.5, bytes=512 * MiB, peak_rss_mib=251.0),  # 0.909x; RSS too high
    ]
    targets = by_key(rows)
    assert targets["A.ratio"].met is True
    assert targets["A.ratio"].value == pytest.approx(0.8)
    assert targets["B.ratio"].met is False
    assert targets["B.ratio"].value == pytest.approx(1 / 1.2)
    assert targets["C.ratio"].met is True
    assert targets["C.rss"].met is False
    assert targets["C.rss"].row_key == "C.ours"
    assert rows[1].ratio == pytest.approx(0.8)  # filled in for the table


def test_rerun_must_be_five_times_faster_than_the_best_first_backup() -> None:
    assert speedup(row("A", OURS, 2000, 10.0), row("A", RERUN, 2000, 2.0)) == pytest.approx(5)
    fast = by_key([row("A", OURS, 2000, 10.0), row("A", RERUN, 2000, 2.0)])
    slow = by_key([row("A", OURS, 2000, 10.0), row("A", RERUN, 2000, 2.1)])
    assert fast["A.rerun"].met is True
    assert slow["A.rerun"].met is False


def test_scaling_compares_seconds_per_file_of_the_largest_and_smallest_tree() -> None:
    small = row("D", OURS, 1000, 2.0)  # 2 ms per file
    assert scaling(small, row("D", OURS, 20000, 50.0)) == pytest.approx(1.25)
    linear = by_key([small, row("D", OURS, 5000, 10.0), row("D", OURS, 20000, 50.0)])
    worse = by_key([small, row("D", OURS, 5000, 10.0), row("D", OURS, 20000, 50.1)])
    assert linear["D.scaling"].met is True
    assert linear["D.scaling"].row_key == "D20000.ours"
    assert worse["D.scaling"].met is False


def test_scaling_ratios_use_the_ceiling_of_the_same_size() -> None:
    rows = [
        row("D", CEILING, 1000, 2.0),
        row("D", CEILING, 20000, 40.0),
        row("D", OURS, 1000, 4.0),
        row("D", OURS, 20000, 50.0),
    ]
    evaluate(rows)
    assert rows[2].ratio == pytest.approx(0.5)
    assert rows[3].ratio == pytest.approx(0.8)


def test_engine_targets() -> None:
    rows = [
        row("engine", ENGINE, 1000, 0.1),
        row("engine", ENGINE, 10000, 5.0),  # 2,000/s, the widest one counts
        row("engine", ENGINE_PARTITIONED, 100000, 80.0, peak_rss_mib=500.0),
    ]
    targets = by_key(rows)
    assert targets["engine.rate"].value == pytest.approx(2000)
    assert targets["engine.rate"].met is True
    assert "10,000" in targets["engine.rate"].description
    assert targets["engine.partitioned"].met is True
    rows[1].seconds = 5.1
    assert by_key(rows)["engine.rate"].met is False


def test_missing_rows_are_not_measured_and_failed_rows_are_not_met() -> None:
    targets = by_key([])
    assert len(targets) == 12
    assert all(t.met is None and t.verdict == "not measured" for t in targets.values())
    failed = row("engine", ENGINE_PARTITIONED, 100000, None, error="BenchError: timed out")
    target = by_key([failed])["engine.partitioned"]
    assert target.met is False
    assert target.verdict == "NOT met"
    assert "timed out" in target.detail


def test_ours_must_beat_the_fastest_peer_measured() -> None:
    rows = [
        row("A", CEILING, 2000, 4.0),
        row("A", OURS, 2000, 5.0),  # 400 files/s
        row("A", RCLONE, 2000, 6.0),  # 333 files/s
        row("A", AZ_CLI, 2000, 5.0),  # 400 files/s: a tie is not faster
        row("B", OURS, 200, 1.0, bytes=200 * MiB),
        row("B", RCLONE, 200, 2.0, bytes=200 * MiB),
        row("B", AZ_CLI, 200, None, note="not run: no pip"),  # not installed: left out
        row("C", OURS, 2, 5.0, bytes=512 * MiB),
        row("C", RCLONE, 2, None, error="BenchError: broke"),  # failed: left out
    ]
    targets = by_key(rows)
    assert targets["A.peers"].value == pytest.approx(1.0)
    assert targets["A.peers"].met is False
    assert targets["A.peers"].detail == "fastest peer: az"
    assert targets["B.peers"].value == pytest.approx(2.0)
    assert targets["B.peers"].met is True
    assert targets["C.peers"].met is None
    assert targets["C.peers"].detail == "no peer measured"
    assert rows[2].ratio == pytest.approx(4.0 / 6.0)  # peers get a ratio to the ceiling too


def test_cpu_per_file_on_tree_a_counts_host_client_and_azurite() -> None:
    ceiling = row("A", CEILING, 2000, 4.0, cpu_client_s=3.0, cpu_azurite_s=2.0)  # 2.5 ms
    ours = row("A", OURS, 2000, 5.0, cpu_host_s=5.0, cpu_client_s=0.5, cpu_azurite_s=2.0)
    assert ours.cpu_ms_per_item == pytest.approx(3.75)
    target = by_key([ceiling, ours])["A.cpu"]
    assert target.value == pytest.approx(1.5)
    assert target.met is True
    ours.cpu_host_s = 5.1
    assert by_key([ceiling, ours])["A.cpu"].met is False


def test_scale_targets_memory_growth_per_file_and_history() -> None:
    def scale(**changes: object) -> dict[str, object]:
        sizes = {
            1000: dict(seconds=4.0, peak_rss_mib=150.0, history_bytes=7000),
            5000: dict(seconds=20.0, peak_rss_mib=160.0, history_bytes=7100),
            100_000: dict(seconds=440.0, peak_rss_mib=200.0, history_bytes=8750),
        }
        sizes[100_000] |= changes
        rows = [row("S", OURS, n, values.pop("seconds"), **values) for n, values in sizes.items()]
        return by_key(rows)

    # 200 MiB, 1.25 x the 5,000-file tree's memory, 1.1 x per file, 1.25 x the history.
    at_limits = scale()
    for key in ("S.memory", "S.memory_growth", "S.per_file", "S.history"):
        assert at_limits[key].met is True, at_limits[key]
        assert at_limits[key].row_key == "S100000.ours"
    assert scale(peak_rss_mib=200.5)["S.memory"].met is False
    assert scale(peak_rss_mib=150.0 * 1.3 + 0.1)["S.memory_growth"].met is True  # vs 5,000
    assert scale(peak_rss_mib=160.0 * 1.3 + 0.1)["S.memory_growth"].met is False
    assert scale(seconds=440.5)["S.per_file"].met is False
    assert scale(history_bytes=8751)["S.history"].met is False
