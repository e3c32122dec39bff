"""From status answers to progress numbers, outcomes and summary lines (pure, no I/O)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backup_client.errors import ExitCode

TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Terminated", "Canceled"})
# How many failed files the summary lists by name; the rest are counted.
FAILED_SHOWN = 5
SKIPPED_SHOWN = 3
RULES_SHOWN = 5


def _int(value: Any, default: int | None = 0) -> int | None:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return default


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class FailedFile:
    path: str
    error: str


@dataclass(frozen=True)
class RuleMatch:
    """One include/exclude rule and what it left out."""

    pattern: str
    source: str
    files: int = 0
    dirs: int = 0


@dataclass(frozen=True)
class Exclusions:
    """What the backup's include/exclude rules left out (``rules`` in the custom status)."""

    rules_total: int = 0
    files: int = 0
    dirs: int = 0
    matched: tuple[RuleMatch, ...] = ()

    @classmethod
    def from_status(cls, value: Any) -> Exclusions:
        if not isinstance(value, Mapping):
            return cls()
        matched = tuple(
            RuleMatch(
                str(item.get("pattern", "?")),
                str(item.get("source", "?")),
                _int(item.get("files")) or 0,
                _int(item.get("dirs")) or 0,
            )
            for item in value.get("matched") or ()
            if isinstance(item, Mapping)
        )
        return cls(
            rules_total=_int(value.get("rulesTotal")) or 0,
            files=_int(value.get("excludedFiles")) or 0,
            dirs=_int(value.get("excludedDirs")) or 0,
            matched=matched,
        )

    def describe(self) -> str:
        plural = "" if self.rules_total == 1 else "s"
        text = f"{self.files:,} files"
        if self.dirs:
            text += f" and {self.dirs:,} folders"
        return f"{text} by {len(self.matched):,} of {self.rules_total:,} rule{plural}"

    def to_json(self) -> dict[str, Any]:
        return {
            "rulesTotal": self.rules_total,
            "excludedFiles": self.files,
            "excludedDirs": self.dirs,
            "matched": [
                {"pattern": m.pattern, "source": m.source, "files": m.files, "dirs": m.dirs}
                for m in self.matched
            ],
        }


@dataclass(frozen=True)
class Progress:
    """The backup's progress as the orchestration's custom status reports it."""

    phase: str | None = None
    files_total: int | None = None
    files_done: int = 0
    files_copied: int = 0
    files_skipped: int = 0
    files_failed: int = 0
    bytes_total: int | None = None
    bytes_done: int = 0  # listed sizes of the files handled so far, copied or not
    bytes_copied: int | None = None  # uploaded in this run, when the status says
    failed: tuple[FailedFile, ...] = ()
    skipped_entries: int = 0
    skipped_examples: tuple[str, ...] = ()
    container: str | None = None
    prefix: str | None = None
    excluded: Exclusions = field(default_factory=Exclusions)
    retention: str | None = None  # what the prune after a scheduled backup did, in words

    @classmethod
    def from_custom_status(cls, value: Any) -> Progress:
        """Read the custom status; anything missing or malformed counts as "not known yet"."""
        if isinstance(value, str):
            # Hosts that do not parse stored JSON text hand it over as a string.
            try:
                value = json.loads(value)
            except ValueError:
                return cls()
        if not isinstance(value, Mapping):
            return cls()
        failed = tuple(
            FailedFile(str(item.get("path", "?")), str(item.get("error", "unknown error")))
            for item in value.get("failed") or ()
            if isinstance(item, Mapping)
        )
        # skippedEntries is a count with a sample in "skipped"; a bare list is read too.
        skipped = value.get("skippedEntries")
        sample = value.get("skipped") if isinstance(value.get("skipped"), list) else []
        if isinstance(skipped, list):
            sample = sample or skipped
            skipped_count = len(skipped)
        else:
            skipped_count = _int(skipped) or 0
        examples = tuple(_describe_entry(item) for item in sample)
        return cls(
            phase=_str(value.get("phase")),
            files_total=_int(value.get("filesTotal"), None),
            files_done=_int(value.get("filesDone")) or 0,
            files_copied=_int(value.get("filesCopied")) or 0,
            files_skipped=_int(value.get("filesSkipped")) or 0,
            files_failed=_int(value.get("filesFailed")) or 0,
            bytes_total=_int(value.get("bytesTotal"), None),
            bytes_done=_int(value.get("bytesDone")) or 0,
            bytes_copied=_int(value.get("bytesCopied"), None),
            failed=failed,
            skipped_entries=skipped_count,
            skipped_examples=examples,
            container=_str(value.get("container")),
            prefix=_str(value.get("prefix")),
            excluded=Exclusions.from_status(value.get("rules")),
            retention=_describe_retention(value.get("retention")),
        )

    @property
    def location(self) -> str | None:
        """``container/prefix`` when the status says where the blobs go."""
        if not self.container:
            return None
        return f"{self.container}/{self.prefix}" if self.prefix else self.container


def _describe_retention(value: Any) -> str | None:
    """The ``retention`` part of a scheduled backup's status, in words."""
    if not isinstance(value, Mapping) or not value:
        return None
    policy = value.get("policy", "?")
    if value.get("error"):
        return f"{policy}: the prune failed: {value['error']}"
    return (
        f"{policy}: kept {_int(value.get('kept')) or 0:,} snapshots, dropped "
        f"{_int(value.get('dropped')) or 0:,}; {_int(value.get('blobsDeleted')) or 0:,} blobs "
        f"and {_int(value.get('snapshotsDeleted')) or 0:,} blob snapshots deleted, "
        f"{format_bytes(_int(value.get('bytesFreed')) or 0)} freed"
    )


def _files_and_dirs(files: int, dirs: int) -> str:
    parts = [f"{files:,} files"] if files or not dirs else []
    if dirs:
        parts.append(f"{dirs:,} folders")
    return ", ".join(parts)


def _describe_entry(item: Any) -> str:
    if isinstance(item, Mapping):
        path = item.get("path", "?")
        reason = item.get("reason") or item.get("error")
        return f"{path}: {reason}" if reason else str(path)
    return str(item)


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 time of the status API (``...Z`` or with an offset), as aware UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class Snapshot:
    """One answer of the status API."""

    instance_id: str
    runtime_status: str
    name: str | None = None
    output: Any = None
    progress: Progress = field(default_factory=Progress)
    created_time: datetime | None = None
    last_updated_time: datetime | None = None

    @classmethod
    def from_json(cls, body: Any) -> Snapshot:
        if not isinstance(body, Mapping):
            raise ValueError(f"not a status object: {body!r:.200}")
        return cls(
            instance_id=str(body.get("instanceId") or ""),
            runtime_status=str(body.get("runtimeStatus") or "Unknown"),
            name=_str(body.get("name")),
            output=body.get("output"),
            progress=Progress.from_custom_status(body.get("customStatus")),
            created_time=parse_time(body.get("createdTime")),
            last_updated_time=parse_time(body.get("lastUpdatedTime")),
        )

    @property
    def is_terminal(self) -> bool:
        return self.runtime_status in TERMINAL_STATUSES

    def server_elapsed(self, now: datetime | None = None) -> float | None:
        """Seconds from creation to the last update (terminal) or to ``now`` (running)."""
        if self.created_time is None:
            return None
        end = self.last_updated_time if self.is_terminal else (now or datetime.now(UTC))
        if end is None:
            return None
        return max(0.0, (end - self.created_time).total_seconds())


def exit_code_for(runtime_status: str, files_failed: int) -> ExitCode:
    """The exit code of a backup in ``runtime_status``; running ones count as OK so far."""
    if runtime_status == "Failed":
        return ExitCode.BACKUP_FAILED
    if runtime_status in ("Terminated", "Canceled"):
        return ExitCode.BACKUP_TERMINATED
    if files_failed > 0:
        return ExitCode.FILES_FAILED
    return ExitCode.OK


@dataclass(frozen=True)
class Summary:
    """What the command line prints at the end of a backup (or for ``status``)."""

    snapshot: Snapshot
    elapsed: float | None  # seconds
    account_endpoint: str | None = None
    kind: str = "backup"  # or "restore": the same counts, other words

    @property
    def progress(self) -> Progress:
        return self.snapshot.progress

    @property
    def bytes(self) -> int:
        """Bytes backed up: the orchestration's output when it completed, else the progress."""
        output = self.snapshot.output
        if self.snapshot.runtime_status == "Completed" and _int(output, None) is not None:
            return int(output)
        return self.progress.bytes_done

    @property
    def throughput(self) -> float | None:
        """Bytes handled (copied or found unchanged) per second, None when no time passed."""
        if not self.elapsed or self.elapsed <= 0:
            return None
        return self.bytes / self.elapsed

    @property
    def exit_code(self) -> ExitCode:
        return exit_code_for(self.snapshot.runtime_status, self.progress.files_failed)

    @property
    def files_total(self) -> int:
        p = self.progress
        if p.files_total is not None:
            return p.files_total
        return p.files_copied + p.files_skipped + p.files_failed

    def lines(self) -> list[tuple[str, str]]:
        """(label, text) rows of the summary, in display order."""
        p = self.progress
        rows: list[tuple[str, str]] = []
        status = self.snapshot.runtime_status
        headline = status
        if self.elapsed is not None:
            headline += f" in {format_duration(self.elapsed)}"
        rows.append((self.kind, f"{self.snapshot.instance_id}  {headline}"))
        if not self.snapshot.is_terminal and p.phase:
            rows.append(("phase", p.phase))
        restore = self.kind == "restore"
        copied, unchanged, moved = (
            ("restored", "already there", "downloaded")
            if restore
            else ("copied", "unchanged", "uploaded")
        )
        rows.append(
            (
                "files",
                f"{self.files_total:,} total: {p.files_copied:,} {copied}, "
                f"{p.files_skipped:,} skipped ({unchanged}), {p.files_failed:,} failed",
            )
        )
        size = f"{format_bytes(self.bytes)} ({self.bytes:,} bytes)"
        if p.bytes_copied is not None:
            size += f", {format_bytes(p.bytes_copied)} {moved}"
        rows.append(("bytes", size))
        if self.throughput is not None and self.snapshot.is_terminal and self.elapsed:
            files_rate = p.files_done / self.elapsed
            rows.append(("speed", f"{format_bytes(self.throughput)}/s, {files_rate:,.1f} files/s"))
        if p.location:
            where = p.location
            if self.account_endpoint:
                where += f"  at {self.account_endpoint}"
            rows.append(("from" if restore else "blobs", where))
        for index, failure in enumerate(p.failed[:FAILED_SHOWN]):
            rows.append(("failed" if index == 0 else "", f"{failure.path}: {failure.error}"))
        hidden = p.files_failed - min(len(p.failed), FAILED_SHOWN)
        if hidden > 0:
            rows.append(("" if p.failed else "failed", f"... and {hidden:,} more"))
        if p.retention:
            rows.append(("retention", p.retention))
        if p.excluded.files or p.excluded.dirs:
            rows.append(("excluded", p.excluded.describe()))
            rows += [
                ("", f"{m.pattern}  ({m.source}): {_files_and_dirs(m.files, m.dirs)}")
                for m in p.excluded.matched[:RULES_SHOWN]
            ]
        if p.skipped_entries:
            text = f"{p.skipped_entries:,} entries left out (not regular files, links out of "
            rows.append(("left out", text + "the folder, names blobs cannot carry)"))
            rows += [("", example) for example in p.skipped_examples[:SKIPPED_SHOWN]]
        if status in ("Failed", "Terminated", "Canceled") and self.snapshot.output is not None:
            rows.append(("reason", _one_line(self.snapshot.output)))
        return rows


def _one_line(value: Any, limit: int = 500) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def format_bytes(count: float) -> str:
    """A byte count in binary units, one decimal (``512 B``, ``1.5 MiB``)."""
    value = float(count)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_duration(seconds: float) -> str:
    """``0.42 s``, ``12.3 s``, ``2 min 03 s``, ``1 h 02 min``."""
    if seconds < 10:
        return f"{seconds:.2f} s" if seconds < 1 else f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def next_poll_delay(retry_after: str | None, ceiling: float, floor: float = 0.05) -> float:
    """Seconds to wait before the next poll: the server's ``Retry-After``, capped at ``ceiling``.

    The status API asks for 5-10 s; a progress bar needs fresher numbers, so the ceiling (about
    half a second) wins when it is shorter. Only delta-seconds are understood; an HTTP date or
    garbage falls back to the ceiling.
    """
    delay = ceiling
    if retry_after is not None:
        try:
            delay = min(float(retry_after.strip()), ceiling)
        except ValueError:
            delay = ceiling
    if not math.isfinite(delay):
        delay = ceiling
    return max(floor, delay)
