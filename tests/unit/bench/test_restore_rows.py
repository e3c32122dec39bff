"""The restore rows on a tiny tree: real Azurite, the real host, a real restore and download."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from bench.restore import restore_rows
from bench.results import RESTORE, RESTORE_CEILING
from bench.targets import evaluate
from bench.trees import KiB, TreeSpec, ensure_tree


@pytest.mark.timeout(180)
def test_restore_rows_measure_ours_against_a_plain_download(tmp_path: Path) -> None:
    tree = ensure_tree(tmp_path / "trees", TreeSpec("tiny", 12, 4 * KiB, per_folder=5))
    before = {p.pid for p in psutil.Process().children(recursive=True)}

    rows = restore_rows(tmp_path / "work", "A", tree, runs=1, workers=(4,), timeout=120)

    by_kind = {row.kind: row for row in rows}
    assert set(by_kind) == {RESTORE_CEILING, RESTORE}
    for row in rows:
        assert row.error is None, row.error
        assert row.seconds > 0 and row.items == tree.files and row.bytes == tree.total_bytes
    ours = by_kind[RESTORE]
    assert ours.peak_rss_mib > 10 and ours.cpu_host_s > 0
    assert by_kind[RESTORE_CEILING].workers == 4
    verdicts = {t.key: t for t in evaluate(rows)}
    assert verdicts["A.restore"].value == pytest.approx(ours.ratio)
    assert ours.ratio > 0
    assert verdicts["B.restore"].verdict == "not measured"
    left = {p.pid for p in psutil.Process().children(recursive=True)} - before
    assert not left, f"processes left behind: {left}"
