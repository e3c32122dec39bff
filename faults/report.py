"""The crash loop's result as text: a summary for the console and a record for RESULTS.md."""

from __future__ import annotations

import json
import platform
import time

import psutil

from bench.meta import git_state
from faults.crashloop import ALL_PHASES, STORAGE, LoopResult, RunResult


def summary(loop: LoopResult) -> str:
    landed = ", ".join(f"{phase} {count}" for phase, count in sorted(loop.landed_counts().items()))
    recover = [run.seconds_to_recover for run in loop.runs if run.ok]
    longest = max(recover, default=0.0)
    return (
        f"runs: {len(loop.runs)}, failures: {loop.failures}\n"
        f"kills landed: {landed or 'none'}\n"
        f"files per run: {loop.config.files}, seed: {loop.config.seed}, "
        f"longest recovery: {longest:.1f} s, total time: {loop.seconds:.0f} s"
    )


def _verdict(run: RunResult) -> str:
    if not run.ok:
        return "FAILED: " + run.problems[0].replace("|", "/")[:120]
    return "ok" if run.aims == 1 else f"ok (kill landed on attempt {run.aims})"


def command_line(loop: LoopResult) -> str:
    """The command that repeats the run (local folders left out: they change nothing)."""
    config = loop.config
    words = [
        "python -m faults crash-loop",
        f"--runs {config.runs}",
        f"--files {config.files}",
        f"--max-size {config.max_size}",
        f"--seed {config.seed}",
    ]
    if tuple(config.phases) != ALL_PHASES:
        words += [f"--phase {phase}" for phase in config.phases]
    return " ".join(words)


def revision() -> str:
    """The commit the code under test is at, and whether the tree was dirty."""
    git = git_state()
    return f"{git.commit} (dirty: {json.dumps(git.dirty)})"


HEADER = (
    "| run | aimed | landed | partitions done | kill at (s) | recovery (s) | copies redone "
    "| storage lost | result |\n|---:|---|---|---|---:|---:|---:|---:|---|"
)


def markdown(loop: LoopResult, at: str = "") -> str:
    """The record committed as ``faults/RESULTS.md`` after a long run."""
    command = command_line(loop)
    where = f" at {at}" if at else ""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    machine = f"{psutil.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"
    rows = "\n".join(
        f"| {run.index + 1} | {run.plan.phase} | {run.landed} | "
        f"{run.partitions_done_at_kill}/{run.partitions_total} | {run.seconds_to_kill:.2f} | "
        f"{run.seconds_to_recover:.2f} | {run.copies_redone} | "
        f"{run.lost_reported if run.plan.phase == STORAGE else ''} | {_verdict(run)} |"
        for run in loop.runs
    )
    return f"""# Crash loop: last long run

`{command}`{where} on {when} ({machine}).

**runs: {len(loop.runs)}, failures: {loop.failures}**

Each run backs up a fresh tree of {loop.config.files} files (seed {loop.config.seed}), SIGKILLs
the local host once at the moment aimed at, starts it again on the same task hub, and checks
that the backup ends Completed with the tree's byte count as output, no file failed, and every
blob holds its file's bytes with a matching Content-MD5. "Landed" is the phase the host's log
showed when it died; "copies redone" counts copy activities that ran more than once (from the
host's debug log): the work that was in flight when the host died, nothing more. A `storage`
run SIGKILLs Azurite instead, during the copies, and restarts it at once: it passes when the
backup's post-copy confirmation reported exactly the files storage lost ("storage lost",
checked by downloading every blob), or the backup failed saying so, and a re-run then stored
every file exactly (its copies count as redone).

{HEADER}
{rows}

Total time: {loop.seconds:.0f} s.
"""
