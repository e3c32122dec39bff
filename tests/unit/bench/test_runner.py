"""A failed part of a scenario becomes a row that says why; the other parts still measure."""

from __future__ import annotations

import shutil
from pathlib import Path

import psutil

from bench.plan import quick_plan
from bench.results import CEILING, OURS, RERUN
from bench.runner import tree_rows
from bench.trees import KiB, TreeSpec, ensure_tree


def test_a_backup_the_host_refuses_fails_its_rows_only(tmp_path: Path) -> None:
    plan = quick_plan()
    trees = tmp_path / "trees"
    tree = ensure_tree(trees, TreeSpec("tiny", 6, 4 * KiB))
    warmup = ensure_tree(trees, TreeSpec("warmup", 2, 1 * KiB))
    shutil.rmtree(warmup.root)  # the starter answers 400 for a folder that does not exist
    before = {p.pid for p in psutil.Process().children(recursive=True)}

    rows = tree_rows(plan, tmp_path / "work", "A", tree, warmup, 1, (4,), rerun=True)

    by_kind = {row.kind: row for row in rows}
    assert set(by_kind) == {CEILING, OURS, RERUN}
    assert by_kind[CEILING].error is None and by_kind[CEILING].seconds > 0
    assert "answered 400" in by_kind[OURS].error
    assert by_kind[RERUN].error == by_kind[OURS].error
    # The host and the emulators it started are gone.
    left = {p.pid for p in psutil.Process().children(recursive=True)} - before
    assert not left, f"processes left behind: {left}"
