"""Counting what a backup did, and the custom status the client's progress bar reads (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MAX_FAILED_LISTED = 20
MAX_SKIPPED_LISTED = 10
MAX_RULES_LISTED = 10
MAX_TEXT = 300
# The host caps custom status at 16 KB; staying under 8,000 UTF-8 bytes keeps it under that
# limit however the host counts (UTF-16 doubles ASCII).
MAX_STATUS_BYTES = 8000

LISTING = "listing"
COPYING = "copying"
CONFIRMING = "confirming"
DONE = "done"
PRUNING = "pruning"


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def clip(text: Any, limit: int = MAX_TEXT) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def task_error(exc: Any, limit: int = MAX_TEXT) -> str:
    """The useful part of a failed task's exception: its reason, without the .NET details."""
    text = str(exc).split("\n", 1)[0].strip()
    for marker in ("' failed: ", "' failed:"):
        if text.startswith(("Activity function '", "Orchestrator function '")) and marker in text:
            text = text.split(marker, 1)[1].strip()
            break
    return clip(text or type(exc).__name__, limit)


@dataclass
class Totals:
    files_done: int = 0
    files_copied: int = 0
    files_skipped: int = 0
    files_failed: int = 0
    bytes_done: int = 0  # listed sizes of the files handled so far (drives the progress bar)
    bytes_copied: int = 0  # uploaded in this run
    bytes_backed_up: int = 0  # copied + unchanged: what the backup holds after the run
    failed: list[dict[str, str]] = field(default_factory=list)
    confirmed: int | None = None  # files the post-copy check found in storage (None: not run)
    lost: int = 0  # files it did not find as copied

    def add_failure(self, path: str, listed_size: int, error: str) -> None:
        self.files_done += 1
        self.files_failed += 1
        self.bytes_done += listed_size
        if len(self.failed) < MAX_FAILED_LISTED:
            self.failed.append({"path": clip(path), "error": clip(error)})

    def add_unchanged(self, count: int, size: int) -> None:
        """Count files the listing found unchanged (skipped without a copy activity)."""
        self.files_done += count
        self.files_skipped += count
        self.bytes_done += size
        self.bytes_backed_up += size

    def add_result(self, path: str, listed_size: int, result: Any) -> None:
        """Count one copy activity result (anything unexpected counts as a failure)."""
        status = result.get("status") if isinstance(result, dict) else None
        size = result.get("bytes") if isinstance(result, dict) else None
        if status == "failed" or not isinstance(size, int) or status not in ("copied", "skipped"):
            error = result.get("error") if isinstance(result, dict) else None
            self.add_failure(path, listed_size, error or f"unexpected result {clip(result, 80)}")
            return
        self.files_done += 1
        self.bytes_done += listed_size
        self.bytes_backed_up += size
        if status == "copied":
            self.files_copied += 1
            self.bytes_copied += size
        else:
            self.files_skipped += 1

    def add_confirmation(self, confirmation: Any) -> None:
        """Count the files the post-copy confirmation did not find in storage as failed.

        They were counted as copied (or unchanged) already; they are not in the backup.
        """
        if not isinstance(confirmation, dict):
            return
        lost = _count(confirmation.get("missing")) + _count(confirmation.get("mismatched"))
        self.confirmed = _count(confirmation.get("confirmed"))
        self.lost = lost
        if not lost:
            return
        from_copied = min(lost, self.files_copied)
        self.files_copied -= from_copied
        self.files_skipped = max(0, self.files_skipped - (lost - from_copied))
        self.files_failed += lost
        self.bytes_backed_up = max(0, self.bytes_backed_up - _count(confirmation.get("lostBytes")))
        for problem in confirmation.get("problems") or []:
            if isinstance(problem, dict) and len(self.failed) < MAX_FAILED_LISTED:
                self.failed.append(
                    {"path": clip(problem.get("path", "")), "error": clip(problem.get("error", ""))}
                )

    def merge(self, other: Totals) -> None:
        self.files_done += other.files_done
        self.files_copied += other.files_copied
        self.files_skipped += other.files_skipped
        self.files_failed += other.files_failed
        self.bytes_done += other.bytes_done
        self.bytes_copied += other.bytes_copied
        self.bytes_backed_up += other.bytes_backed_up
        room = MAX_FAILED_LISTED - len(self.failed)
        if room > 0:
            self.failed.extend(other.failed[:room])

    def to_dict(self) -> dict[str, Any]:
        return {
            "filesDone": self.files_done,
            "filesCopied": self.files_copied,
            "filesSkipped": self.files_skipped,
            "filesFailed": self.files_failed,
            "bytesDone": self.bytes_done,
            "bytesCopied": self.bytes_copied,
            "bytesBackedUp": self.bytes_backed_up,
            "failed": list(self.failed),
        }

    @classmethod
    def from_dict(cls, value: Any) -> Totals:
        """Read a partition's summary; raises ValueError when it is not one."""
        if not isinstance(value, dict):
            raise ValueError(f"a partition summary must be an object, got {clip(value, 80)}")
        counts = {}
        for key, attr in (
            ("filesDone", "files_done"),
            ("filesCopied", "files_copied"),
            ("filesSkipped", "files_skipped"),
            ("filesFailed", "files_failed"),
            ("bytesDone", "bytes_done"),
            ("bytesCopied", "bytes_copied"),
            ("bytesBackedUp", "bytes_backed_up"),
        ):
            item = value.get(key, 0)
            if not isinstance(item, int) or isinstance(item, bool) or item < 0:
                raise ValueError(f"partition summary field {key!r} is not a count: {item!r}")
            counts[attr] = item
        failed = [
            {"path": clip(entry.get("path", "")), "error": clip(entry.get("error", ""))}
            for entry in value.get("failed") or []
            if isinstance(entry, dict)
        ]
        return cls(**counts, failed=failed[:MAX_FAILED_LISTED])


@dataclass(frozen=True)
class Scope:
    """What the listing found: the fixed part of every progress report."""

    container: str
    prefix: str
    files_total: int = 0
    bytes_total: int = 0
    skipped_entries: int = 0
    skipped: tuple[dict[str, str], ...] = ()
    partitions_total: int = 0
    rules: dict[str, Any] | None = None  # sitebackup.rules report of the listing
    dry_run: bool = False
    run_id: str = ""  # the run's id, which names its snapshot
    retention: dict[str, Any] | None = None  # what the prune after the run did (or why not)


def rules_status(rules: dict[str, Any] | None) -> dict[str, Any]:
    """The rules part of the status: totals and the first rules that matched."""
    rules = rules or {}
    return {
        "rulesTotal": int(rules.get("rulesTotal") or 0),
        "rulesMatched": int(rules.get("rulesMatched") or 0),
        "excludedFiles": int(rules.get("excludedFiles") or 0),
        "excludedDirs": int(rules.get("excludedDirs") or 0),
        "matched": [
            {
                "pattern": clip(item.get("pattern", ""), 100),
                "source": clip(item.get("source", ""), 60),
                "files": int(item.get("files") or 0),
                "dirs": int(item.get("dirs") or 0),
            }
            for item in (rules.get("matched") or [])[:MAX_RULES_LISTED]
            if isinstance(item, dict)
        ],
    }


def custom_status(
    phase: str, scope: Scope, totals: Totals | None = None, partitions_done: int = 0
) -> dict[str, Any]:
    """The custom status object (keys fixed by the client's progress bar), size-capped."""
    totals = totals or Totals()
    counts = totals.to_dict()
    status = {
        "phase": phase,
        "filesTotal": scope.files_total,
        "filesDone": counts["filesDone"],
        "filesCopied": counts["filesCopied"],
        "filesSkipped": counts["filesSkipped"],
        "filesFailed": counts["filesFailed"],
        "bytesTotal": scope.bytes_total,
        "bytesDone": counts["bytesDone"],
        "bytesCopied": counts["bytesCopied"],
        "bytesBackedUp": counts["bytesBackedUp"],
        "partitionsTotal": scope.partitions_total,
        "partitionsDone": partitions_done,
        "skippedEntries": scope.skipped_entries,
        "skipped": [
            {"path": clip(entry.get("path", "")), "reason": clip(entry.get("reason", ""))}
            for entry in scope.skipped[:MAX_SKIPPED_LISTED]
        ],
        "failed": counts["failed"],
        "container": scope.container,
        "prefix": scope.prefix,
        "rules": rules_status(scope.rules),
    }
    if scope.dry_run:
        status["dryRun"] = True
    if scope.run_id:
        status["runId"] = scope.run_id
    if scope.retention is not None:
        status["retention"] = scope.retention
    if totals.confirmed is not None:
        # The post-copy confirmation (sitebackup.confirm): files found in storage as copied,
        # and files storage did not hold (also counted in filesFailed).
        status["confirmedInStorage"] = totals.confirmed
        status["missingFromStorage"] = totals.lost
    return fit(status)


def _size(status: dict[str, Any]) -> int:
    # ASCII-escaped JSON is never shorter than its UTF-8 form, so this bounds both.
    return len(json.dumps(status))


def fit(status: dict[str, Any], limit: int = MAX_STATUS_BYTES) -> dict[str, Any]:
    """Drop listed entries (skipped, failed, then matched rules) until the JSON fits."""
    status = {**status, "skipped": list(status["skipped"]), "failed": list(status["failed"])}
    while _size(status) > limit and status["skipped"]:
        status["skipped"].pop()
    while _size(status) > limit and status["failed"]:
        status["failed"].pop()
    rules = status.get("rules")
    if isinstance(rules, dict) and rules.get("matched") and _size(status) > limit:
        status["rules"] = {**rules, "matched": []}
    return status
