"""``python -m faults``: fault injection against the backup app on the local host."""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

import click

from faults import FaultError
from faults.crashloop import ALL_PHASES, LoopConfig, RunResult, crash_loop
from faults.report import markdown, revision, summary


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Break the local host on purpose and check that no backup loses anything."""


@cli.command("crash-loop")
@click.option("--runs", type=click.IntRange(1), default=20, show_default=True)
@click.option(
    "--files", type=click.IntRange(1), default=3000, show_default=True, help="Files per tree."
)
@click.option("--max-size", type=click.IntRange(1), default=2048, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Trees and kill moments.")
@click.option(
    "--phase",
    "phases",
    type=click.Choice(ALL_PHASES),
    multiple=True,
    help="Phases to aim at, in turn (repeatable).  [default: all]",
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Trees, task hubs and Azurite data go here.  [default: a new temporary folder]",
)
@click.option("--keep", is_flag=True, help="Keep what passing runs leave behind too.")
@click.option(
    "--record",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the result as Markdown here (faults/RESULTS.md after a long run).",
)
@click.option("-v", "--verbose", is_flag=True)
def crash_loop_command(
    runs: int,
    files: int,
    max_size: int,
    seed: int,
    phases: tuple[str, ...],
    workdir: Path | None,
    keep: bool,
    record: Path | None,
    verbose: bool,
) -> None:
    """SIGKILL the local host at random moments of backups, restart it, check every blob."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    workdir = workdir or Path(tempfile.mkdtemp(prefix="crash-loop-"))
    config = LoopConfig(
        workdir=workdir,
        runs=runs,
        files=files,
        max_size=max_size,
        seed=seed,
        phases=phases or ALL_PHASES,
        keep=keep,
    )
    click.echo(f"crash loop: {runs} runs of {files} files, work folder {workdir}")

    def show(run: RunResult) -> None:
        click.echo(run.describe())

    try:
        loop = crash_loop(config, on_run=show)
    except FaultError as error:
        click.echo(f"faults: {error}", err=True)
        sys.exit(2)
    click.echo(summary(loop))
    if record:
        record.write_text(markdown(loop, revision()))
        click.echo(f"recorded in {record}")
    sys.exit(1 if loop.failures else 0)


def main() -> None:
    cli(prog_name="python -m faults")


if __name__ == "__main__":
    main()
