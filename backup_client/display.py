"""Terminal output: the live progress bar and the summary (``rich``)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from backup_client import dry_run
from backup_client.errors import ExitCode
from backup_client.progress import Progress as BackupProgress
from backup_client.progress import Snapshot, Summary, format_bytes

_PHASES = {"Pending": "starting", "Running": "running", "Suspended": "suspended"}


def phase_label(snapshot: Snapshot) -> str:
    """What the bar's label says: the backup's phase, else what the runtime status implies."""
    if snapshot.is_terminal:
        return snapshot.runtime_status.lower()
    return snapshot.progress.phase or _PHASES.get(snapshot.runtime_status, "running")


class _CountsColumn(ProgressColumn):
    """Files row: done/total; bytes row: done/total and the current speed; split row: counts."""

    def render(self, task: Task) -> Text:
        kind = task.fields.get("kind")
        if kind == "split":
            return Text(task.fields.get("text", ""), style="dim")
        total = "?" if task.total is None else None
        if kind == "bytes":
            speed = f"  {format_bytes(task.speed)}/s" if task.speed else ""
            total = total or format_bytes(task.total or 0)
            return Text(f"{format_bytes(task.completed)} / {total}{speed}", style="cyan")
        total = total or f"{int(task.total or 0):,}"
        return Text(f"{int(task.completed):,} / {total} files", style="green")


class _Bar(BarColumn):
    """The bar, except on the split row (text only)."""

    def render(self, task: Task) -> Text:  # type: ignore[override]
        if task.fields.get("kind") == "split":
            return Text("")
        return super().render(task)  # type: ignore[return-value]


class _Spinner(SpinnerColumn):
    def render(self, task: Task) -> Text:  # type: ignore[override]
        if task.fields.get("kind") != "files":
            return Text("")
        return super().render(task)  # type: ignore[return-value]


class _Elapsed(TimeElapsedColumn):
    def render(self, task: Task) -> Text:
        return Text("") if task.fields.get("kind") != "files" else super().render(task)


class ProgressDisplay:
    """Bars for files and bytes and a line of counts, fed by status snapshots.

    A no-op when disabled (``--no-progress``, ``--json``).
    """

    def __init__(self, console: Console, enabled: bool = True, kind: str = "backup") -> None:
        self.enabled = enabled
        self.kind = kind
        self._progress = Progress(
            _Spinner(),
            TextColumn("{task.description}", style="bold"),
            _Bar(bar_width=24),
            _CountsColumn(),
            _Elapsed(),
            console=console,
            refresh_per_second=8,
        )
        self._files: TaskID | None = None
        self._bytes: TaskID | None = None
        self._split: TaskID | None = None

    def __enter__(self) -> ProgressDisplay:
        if self.enabled:
            self._progress.start()
            self._files = self._progress.add_task("starting", total=None, kind="files")
            self._bytes = self._progress.add_task("", total=None, kind="bytes")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._progress.stop()

    def update(self, snapshot: Snapshot) -> None:
        if not self.enabled or self._files is None or self._bytes is None:
            return
        p: BackupProgress = snapshot.progress
        self._progress.update(
            self._files,
            description=phase_label(snapshot),
            total=p.files_total,
            completed=p.files_done,
        )
        self._progress.update(self._bytes, total=p.bytes_total, completed=p.bytes_done)
        text = _split(p, self.kind)
        if text and self._split is None:
            self._split = self._progress.add_task("", total=None, kind="split", text=text)
        elif self._split is not None:
            self._progress.update(self._split, text=text)


def _split(p: BackupProgress, kind: str = "backup") -> str:
    if not (p.files_copied or p.files_skipped or p.files_failed):
        return ""
    copied, skipped = (
        ("restored", "already there") if kind == "restore" else ("copied", "unchanged")
    )
    text = f"{p.files_copied:,} {copied}, {p.files_skipped:,} {skipped}"
    if p.files_failed:
        text += f", {p.files_failed:,} failed"
    return text


def _style(code: ExitCode) -> str:
    if code == ExitCode.OK:
        return "green"
    if code == ExitCode.FILES_FAILED:
        return "yellow"
    return "red"


def print_summary(console: Console, summary: Summary) -> None:
    style = _style(summary.exit_code) if summary.snapshot.is_terminal else "cyan"
    for index, (label, text) in enumerate(summary.lines()):
        line = Text(f"{label:>9}  ", style="bold")
        line.append(text, style=style if index == 0 else "")
        console.print(line, soft_wrap=True, highlight=False)


def print_rows(console: Console, rows: list[tuple[str, str]], style: str = "") -> None:
    for label, text in rows:
        line = Text(f"{label:>9}  ", style="bold")
        line.append(text, style=style)
        console.print(line, soft_wrap=True, highlight=False)


def print_dry_run(console: Console, summary: Summary) -> None:
    """A dry run's result: what a real run would copy and skip, as a table."""
    report = summary.snapshot.output
    p = summary.progress
    where = f" (destination {p.location})" if p.location else ""
    console.print(
        Text(f"dry run {summary.snapshot.instance_id}: nothing was written{where}", style="bold"),
        soft_wrap=True,
    )
    table = Table(header_style="bold")
    table.add_column("action")
    table.add_column("why")
    table.add_column("files", justify="right")
    table.add_column("size", justify="right")
    for row in dry_run.rows(report):
        table.add_row(*row.cells())
    console.print(table)
    for kind, path in dry_run.examples(report):
        console.print(Text(f"{kind:>9}  {path}"), soft_wrap=True, highlight=False)
    if p.excluded.matched:
        console.print(Text("rules that matched:", style="bold"))
        for m in p.excluded.matched:
            console.print(
                Text(f"  {m.pattern}  ({m.source}): {m.files:,} files, {m.dirs:,} folders"),
                soft_wrap=True,
                highlight=False,
            )
