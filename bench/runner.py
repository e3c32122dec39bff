"""Runs a plan: trees, ceilings, our backups, the engine; one failed scenario spoils no other.

The ceiling's runs and ours alternate (after the ceiling's sweep over worker counts), so that
noise from other work on the machine falls on both sides alike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from bench.ceiling import CeilingRun, best_workers, ceiling_row, ceiling_run, single_put_row
from bench.e2e import BackupRun, measured_backups, ours_rows
from bench.engine import measure_engine
from bench.peers import PeerRun, Tool, ensure_tools, peer_row, peer_run
from bench.plan import Plan
from bench.restore import restore_rows
from bench.results import CEILING, CEILING_SINGLE_PUT, OURS, RERUN, Row, error_text
from bench.trees import KiB, MiB, Tree, TreeSpec, ensure_tree

log = logging.getLogger(__name__)

# azure-storage-blob uploads files up to this size in one PUT by default, bigger ones in blocks.
SDK_SINGLE_PUT_LIMIT = 64 * MiB
DEFAULT_WORKERS = 16
SCALE_SECONDS_PER_FILE = 0.03  # a scale row's timeout per file (about 6 x what one takes)
WARMUP_TREE = TreeSpec("warmup", 8, 4 * KiB)

T = TypeVar("T")


class _Failures:
    """The first error of each part of a scenario, by row kind."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def attempt(self, kind: str, what: str, measure: Callable[[], T]) -> T | None:
        if kind in self.errors:
            return None  # a part that failed once is not tried again
        try:
            return measure()
        except Exception as error:  # a benchmark reports a failure and goes on
            log.exception("%s failed", what)
            self.errors[kind] = error_text(error)
            return None

    def row(self, tree_label: str, tree: Tree, kind: str) -> Row:
        label = f"{tree.spec.name} {kind}"
        return Row(tree_label, kind, label, tree.files, tree.total_bytes, error=self.errors[kind])


def tree_rows(
    plan: Plan,
    workdir: Path,
    label: str,
    tree: Tree,
    warmup: Tree,
    runs: int,
    workers: tuple[int, ...],
    rerun: bool = False,
    peers: Mapping[str, Tool | str] | None = None,
) -> list[Row]:
    """Ceiling (sweep over ``workers``, then best of ``runs``), ours and each of ``peers``
    (best of ``runs``); ``peers`` maps a peer to its tool or to why it is not available."""
    peers = peers or {}
    failures = _Failures()
    ceiling: list[CeilingRun] = []
    for count in workers:
        run = failures.attempt(
            CEILING, f"ceiling of {tree.spec.name}", lambda c=count: ceiling_run(workdir, tree, c)
        )
        if run:
            ceiling.append(run)
    first: list[BackupRun] = []
    again: list[BackupRun] = []
    peer_runs: dict[str, list[PeerRun]] = {kind: [] for kind in peers}
    for run_no in range(runs):
        if run_no > 0 and ceiling:
            best = best_workers(ceiling)
            run = failures.attempt(
                CEILING,
                f"ceiling of {tree.spec.name}",
                lambda b=best: ceiling_run(workdir, tree, b),
            )
            if run:
                ceiling.append(run)
        last = run_no == runs - 1
        results = failures.attempt(
            OURS,
            f"our backup of {tree.spec.name}",
            lambda n=run_no, last=last: measured_backups(
                workdir, tree, warmup, rerun and last, plan.run_timeout, n
            ),
        )
        if results:
            first.append(results[0])
            again.extend(results[1:])
        for kind, tool in peers.items():
            if isinstance(tool, Tool):
                done = failures.attempt(
                    kind,
                    f"{kind} upload of {tree.spec.name}",
                    lambda t=tool: peer_run(t, workdir / "peers", tree, plan.run_timeout),
                )
                if done:
                    peer_runs[kind].append(done)
    rows = [ceiling_row(label, tree, ceiling) if ceiling else failures.row(label, tree, CEILING)]
    if max((e.size for e in tree.entries), default=0) > SDK_SINGLE_PUT_LIMIT:
        single = failures.attempt(
            CEILING_SINGLE_PUT,
            f"single-PUT ceiling of {tree.spec.name}",
            lambda: single_put_row(workdir, label, tree),
        )
        rows.append(single or failures.row(label, tree, CEILING_SINGLE_PUT))
    if first:
        rows += ours_rows(label, tree, first, again)
    else:
        rows.append(failures.row(label, tree, OURS))
    if rerun and not again:
        failures.errors.setdefault(RERUN, failures.errors.get(OURS, "not run"))
        rows.append(failures.row(label, tree, RERUN))
    for kind, tool in peers.items():
        if kind in failures.errors:
            rows.append(failures.row(label, tree, kind))
        else:
            usable = tool if isinstance(tool, Tool) else None
            rows.append(peer_row(label, tree, kind, usable, peer_runs[kind], str(tool)))
    return rows


def scale_rows(plan: Plan, workdir: Path, tree: Tree, warmup: Tree) -> list[Row]:
    """Our backup alone (no ceiling, no peer), once: host peak memory, seconds per file and
    the parent orchestration's history size as the tree grows (issue 16)."""
    failures = _Failures()
    # 100,000 files take minutes even when all goes well: the timeout grows with the tree.
    timeout = max(plan.run_timeout, tree.files * SCALE_SECONDS_PER_FILE)
    runs = failures.attempt(
        OURS,
        f"our backup of {tree.spec.name}",
        lambda: measured_backups(workdir, tree, warmup, False, timeout, 0, history=True),
    )
    if not runs:
        return [failures.row("S", tree, OURS)]
    return ours_rows("S", tree, runs, [])


def run_plan(plan: Plan, workdir: Path) -> list[Row]:
    """Every scenario of ``plan`` in order A, B, C, D, S, restore, engine; the rows of the
    table."""
    trees_dir = workdir / "trees"
    warmup = ensure_tree(trees_dir, WARMUP_TREE)
    rows: list[Row] = []
    on_trees = plan.scenarios & {"A", "B", "C"}
    peers = ensure_tools(workdir / "peers", plan.peers) if on_trees else {}
    for label in ("A", "B", "C"):
        if label in plan.scenarios:
            tree = ensure_tree(trees_dir, plan.trees[label])
            rows += tree_rows(
                plan,
                workdir,
                label,
                tree,
                warmup,
                plan.runs,
                plan.workers,
                rerun=label == "A",
                peers=peers,
            )
    if "D" in plan.scenarios:
        best = next((r.workers for r in rows if r.tree == "A" and r.kind == CEILING), None)
        workers = best or (DEFAULT_WORKERS if DEFAULT_WORKERS in plan.workers else plan.workers[0])
        for spec in plan.scaling:
            tree = ensure_tree(trees_dir, spec)
            rows += tree_rows(plan, workdir, "D", tree, warmup, 1, (workers,))
    if "S" in plan.scenarios:
        for spec in plan.scale:
            tree = ensure_tree(trees_dir, spec)
            rows += scale_rows(plan, workdir, tree, warmup)
    if "restore" in plan.scenarios:
        for label in ("A", "B", "C"):
            tree = ensure_tree(trees_dir, plan.trees[label])
            rows += restore_rows(
                workdir, label, tree, plan.runs, plan.workers[:2], plan.run_timeout
            )
    if "engine" in plan.scenarios:
        rows += measure_engine(
            workdir, plan.engine_sizes, plan.partitioned, plan.partition_size, plan.run_timeout
        )
    return rows
