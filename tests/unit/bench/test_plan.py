"""Options: scenario names and number lists."""

from __future__ import annotations

import pytest

from bench import BenchError
from bench.ceiling import per_file_concurrency
from bench.plan import (
    customise,
    full_plan,
    parse_ints,
    parse_peers,
    parse_scenarios,
    quick_plan,
)


def test_scenarios_are_case_insensitive_and_checked() -> None:
    assert parse_scenarios("a, C,ENGINE") == frozenset({"A", "C", "engine"})
    with pytest.raises(BenchError, match="unknown scenario"):
        parse_scenarios("A,E")
    with pytest.raises(BenchError):
        parse_scenarios(" , ")


def test_peers_keep_their_order_and_none_means_none() -> None:
    assert parse_peers("AZ, rclone") == ("rclone", "az")
    assert parse_peers("none") == ()
    with pytest.raises(BenchError, match="unknown peer"):
        parse_peers("azcopy")
    with pytest.raises(BenchError):
        parse_peers(",")
    assert full_plan().peers == ("rclone", "az")


def test_number_lists() -> None:
    assert parse_ints("1_000,10000", "--engine-sizes") == (1000, 10000)
    with pytest.raises(BenchError, match="--workers"):
        parse_ints("8,x", "--workers")
    with pytest.raises(BenchError):
        parse_ints("0", "--workers")


def test_the_full_plan_is_the_issue_and_options_override_it() -> None:
    plan = full_plan()
    assert (plan.trees["A"].files, plan.trees["A"].file_size) == (2000, 16 * 1024)
    assert (plan.trees["B"].files, plan.trees["C"].files) == (200, 2)
    assert [s.files for s in plan.scaling] == [1000, 5000, 20000]
    assert plan.engine_sizes == (1000, 10000) and plan.partitioned == 100_000
    changed = customise(plan, runs=1, workers=None)
    assert changed.runs == 1 and changed.workers == plan.workers
    assert quick_plan().quick and quick_plan().runs == 1


def test_large_files_get_block_concurrency_when_files_are_fewer_than_workers() -> None:
    assert per_file_concurrency(16, 2000) == 1
    assert per_file_concurrency(16, 2) == 8
    assert per_file_concurrency(8, 3) == 2
    assert per_file_concurrency(8, 0) == 1
