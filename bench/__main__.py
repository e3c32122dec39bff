"""Command line: ``python -m bench`` (``./dev bench``) runs the benchmark and prints one table."""

from __future__ import annotations

import logging
import shlex
import signal
import sys
import time
from pathlib import Path

import click

from bench import BenchError
from bench.meta import collect, load_average
from bench.plan import (
    customise,
    full_plan,
    parse_ints,
    parse_peers,
    parse_scenarios,
    quick_plan,
)
from bench.report import table, targets_summary, write_json, write_markdown
from bench.results import Report
from bench.runner import run_plan
from bench.storage import PROJECT_DIR
from bench.targets import evaluate

DEFAULT_WORK_DIR = PROJECT_DIR / "bench" / "work"


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # SystemExit unwinds the context managers, which stop the hosts and Azurites started.
    raise SystemExit(128 + signum)


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    # The storage SDK logs every request at INFO: that would cost more CPU than it measures.
    logging.getLogger("azure").setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.ERROR)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--quick", is_flag=True, help="A smoke run: every scenario in miniature.")
@click.option(
    "--scenarios",
    default="A,B,C,D,S,engine,restore",
    show_default=True,
    help="Which to run, comma-separated: A (2,000 x 16 KiB), B (200 x 1 MiB), "
    "C (2 x 256 MiB), D (scaling 1k/5k/20k files), S (scale: 1k/5k/100k files of 1 KiB, "
    "host memory and the parent's history size), engine (no-op fan-outs), restore "
    "(trees A, B, C restored against a plain download).",
)
@click.option(
    "--peers",
    default="rclone,az",
    show_default=True,
    help="Other tools uploading trees A, B and C in the same run: rclone, az, or none. "
    "Installed on first use (rclone with apt-get as root, azure-cli with pip into the work "
    "directory).",
)
@click.option("--runs", type=int, default=None, help="Best of how many runs.  [default: 3]")
@click.option(
    "--workers",
    default=None,
    help="Ceiling thread pool sizes to try, comma-separated.  [default: 8,16,32,64]",
)
@click.option(
    "--engine-sizes",
    default=None,
    help="No-op activities in one task_all, comma-separated.  [default: 1000,10000]",
)
@click.option(
    "--partitioned",
    type=int,
    default=None,
    help="No-op activities over sub-orchestrations (0 skips).  [default: 100000]",
)
@click.option(
    "--partition-size",
    type=int,
    default=None,
    help="Activities per sub-orchestration.  [default: 1000]",
)
@click.option(
    "--run-timeout",
    type=float,
    default=None,
    help="Seconds one backup or orchestration may take.  [default: 600]",
)
@click.option(
    "--work-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_WORK_DIR,
    show_default="bench/work",
    help="Trees, Azurite and host state (the trees are reused between runs).",
)
@click.option(
    "--json-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the results as JSON here (bench/results.json is the committed one).",
)
@click.option(
    "--markdown-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the results as Markdown here (bench/RESULTS.md is the committed one).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log each run as it happens.")
def cli(
    quick: bool,
    scenarios: str,
    peers: str,
    runs: int | None,
    workers: str | None,
    engine_sizes: str | None,
    partitioned: int | None,
    partition_size: int | None,
    run_timeout: float | None,
    work_dir: Path,
    json_out: Path | None,
    markdown_out: Path | None,
    verbose: bool,
) -> None:
    """Benchmark our backup and our durable engine against the storage ceiling."""
    _configure_logging(verbose)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        plan = customise(
            quick_plan() if quick else full_plan(),
            scenarios=parse_scenarios(scenarios),
            peers=parse_peers(peers),
            runs=runs,
            workers=parse_ints(workers, "--workers") if workers else None,
            engine_sizes=parse_ints(engine_sizes, "--engine-sizes") if engine_sizes else None,
            partitioned=partitioned,
            partition_size=partition_size,
            run_timeout=run_timeout,
        )
        if plan.runs < 1 or plan.partition_size < 1 or plan.partitioned < 0:
            raise BenchError("--runs and --partition-size must be positive")
    except BenchError as error:
        raise click.UsageError(str(error)) from None
    command = shlex.join(["python", "-m", "bench", *sys.argv[1:]])
    meta = collect(command)
    started = time.monotonic()
    rows = run_plan(plan, work_dir.resolve())
    meta["duration_s"] = round(time.monotonic() - started, 1)
    meta["load_after"] = load_average()
    meta["quick"] = plan.quick
    report = Report(meta, rows, evaluate(rows))
    click.echo(table(report))
    click.echo(f"\n{targets_summary(report.targets)}; took {meta['duration_s']:.0f} s")
    if json_out:
        write_json(report, json_out)
    if markdown_out:
        write_markdown(report, markdown_out)
    if any(row.error for row in rows):
        click.echo("some runs failed: see the notes column", err=True)
        sys.exit(1)


def main() -> None:
    cli(prog_name="python -m bench")


if __name__ == "__main__":
    main()
