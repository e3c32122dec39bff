"""Reading the engine app's counters and the backup's custom status (pure parts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import BenchError
from bench.e2e import check_rerun, summary
from bench.engine import check_fan_out, stats_delta
from bench.trees import FileEntry, Tree, TreeSpec


def test_stats_delta_leaves_out_the_warmup() -> None:
    before = {
        "episodes": {"warm": 2},
        "functions": {"FanOut": {"calls": 2, "seconds": 0.5}},
        "activities": 20,
    }
    after = {
        "episodes": {"warm": 2, "big": 3},
        "functions": {"FanOut": {"calls": 5, "seconds": 2.0}},
        "activities": 10020,
    }
    delta = stats_delta(before, after)
    assert delta["episodes"] == {"big": 3}
    assert delta["functions"] == {"FanOut": {"calls": 3, "seconds": 1.5}}
    assert delta["activities"] == 10000


def test_summary_reads_the_counters_of_the_custom_status() -> None:
    status = {
        "customStatus": {
            "phase": "done",
            "filesCopied": 0,
            "filesSkipped": 2000,
            "filesFailed": 0,
            "partitionsTotal": 4,
            "bytesTotal": 5,
        }
    }
    assert summary(status) == {
        "filesCopied": 0,
        "filesSkipped": 2000,
        "filesFailed": 0,
        "partitionsTotal": 4,
    }
    assert summary({"customStatus": "text"}) == {}
    assert summary({}) == {}


def _tree(sizes: list[int]) -> Tree:
    spec = TreeSpec("t", len(sizes), 1)
    entries = tuple(FileEntry(i, f"f{i}", size) for i, size in enumerate(sizes))
    return Tree(spec, Path("/nowhere"), entries)


def _status(output: int, copied: int, skipped: int, failed: int) -> dict:
    counters = {"filesCopied": copied, "filesSkipped": skipped, "filesFailed": failed}
    return {"output": output, "customStatus": counters}


def test_a_rerun_must_skip_every_file_and_count_every_byte() -> None:
    tree = _tree([3, 4, 5])
    check_rerun(tree, _status(12, 0, 3, 0))
    for wrong in (_status(12, 1, 2, 0), _status(11, 0, 3, 0), _status(12, 0, 2, 1)):
        with pytest.raises(BenchError):
            check_rerun(tree, wrong)
    with pytest.raises(BenchError):  # no counters at all is no proof either
        check_rerun(tree, {"output": 12, "customStatus": "done"})


def test_a_fan_out_must_have_run_its_activities() -> None:
    check_fan_out("FanOut", {"n": 5}, 5, {"activities": 5})
    with pytest.raises(BenchError, match="counted 0 activity"):
        check_fan_out("FanOut", {"n": 5}, 5, {"activities": 0})
    with pytest.raises(BenchError, match="output 4"):
        check_fan_out("FanOut", {"n": 5}, 4, {"activities": 5})
