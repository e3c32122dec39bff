"""The restore starter's request: parse and check it completely before anything starts.

Every problem raises ``RequestError`` (the starter answers 400 with its message and starts
nothing). Choosing the snapshot needs storage; the caller passes a ``find`` function that
returns the snapshot id for a ``Choice`` (or raises RequestError), so this module stays
pure and testable.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sitebackup import settings as cfg
from sitebackup.errors import RequestError, echo
from sitebackup.request import backup_destination, json_type, parse_body_object, string_option
from sitebackup.restore import download, patterns
from sitebackup.restore.job import RestoreJob
from sitebackup.restore.target import target_problem

OPTIONS = ("path", "container", "prefix", "snapshot", "asOf", "target", "include", "existing")
LATEST = "latest"
USAGE = (
    'send {"path": "/dir/that/was/backed/up" (or "container" and "prefix"), "target": '
    '"/abs/folder", "snapshot": "latest" | id, "asOf": time, "include": [patterns], '
    '"existing": "refuse" | "skip" | "overwrite"}'
)


@dataclass(frozen=True)
class Choice:
    """Which snapshot: the latest, one by id, or the newest that ended at or before a time."""

    snapshot_id: str | None = None
    as_of_ms: int | None = None

    @property
    def latest(self) -> bool:
        return self.snapshot_id is None and self.as_of_ms is None

    def describe(self) -> str:
        if self.snapshot_id is not None:
            return f"snapshot {echo(self.snapshot_id)}"
        if self.as_of_ms is not None:
            when = datetime.fromtimestamp(self.as_of_ms / 1000, UTC).isoformat()
            return f"snapshot taken at or before {when}"
        return "snapshot"


def choose(snapshots: Iterable[tuple[str, int]], choice: Choice) -> str | None:
    """The id chosen among ``(id, ended_ms)`` listed newest first, or None."""
    for snapshot_id, ended_ms in snapshots:
        if choice.snapshot_id is not None:
            if snapshot_id == choice.snapshot_id:
                return snapshot_id
        elif choice.as_of_ms is None or ended_ms <= choice.as_of_ms:
            return snapshot_id
    return None


Finder = Callable[[str, str, Choice], str]


@dataclass(frozen=True)
class RestoreStart:
    job: RestoreJob
    instance_id: str


def instance_id(target: str) -> str:
    """One id per target folder: two restores never write into the same folder at once."""
    digest = hashlib.sha256(target.encode("utf-8", "surrogatepass")).hexdigest()
    return "restore-" + digest[:32]


def parse_time(value: str) -> int:
    """ISO 8601 (``2026-11-29T22:00:00Z``, a date alone means its midnight UTC) -> ms."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RequestError(
            f"'asOf' {echo(value)} is not a time: use ISO 8601, e.g. 2026-11-29T22:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def resolve_target(value: Any, restore_roots: tuple[str, ...]) -> str:
    """The real path of the target folder, after every safety check."""
    if not restore_roots:
        raise RequestError(
            f"no restore roots are configured: set the app setting {cfg.RESTORE_ROOTS} to the "
            "directories restores may write into (absolute paths separated by "
            f"'{os.pathsep}' or ','), then restore into a folder inside one of them"
        )
    if value is None:
        raise RequestError(f"'target' is missing: the folder to restore into. {USAGE}")
    if not isinstance(value, str):
        raise RequestError(f"'target' must be a string, got {json_type(value)}")
    if not value or "\x00" in value or not os.path.isabs(value):
        raise RequestError(f"'target' must be an absolute path, got {echo(value)}")
    resolved = os.path.realpath(value)
    problem = target_problem(resolved, restore_roots)
    if problem:
        hint = ""
        if problem == "the target is outside the restore roots":
            hint = (
                f"; restore into a folder inside one of: {', '.join(restore_roots)}, or add "
                f"a root to the app setting {cfg.RESTORE_ROOTS}"
            )
        raise RequestError(f"cannot restore into {echo(value)}: {problem}{hint}")
    return resolved


def _choice(options: dict[str, Any]) -> Choice:
    snapshot = string_option(options, "snapshot")
    as_of = string_option(options, "asOf")
    if snapshot is not None and as_of is not None:
        raise RequestError("give 'snapshot' or 'asOf', not both")
    if snapshot is not None and not snapshot.strip():
        raise RequestError("'snapshot' is empty: give 'latest' or a snapshot id")
    if as_of is not None:
        return Choice(as_of_ms=parse_time(as_of))
    if snapshot is None or snapshot.strip().lower() == LATEST:
        return Choice()
    return Choice(snapshot_id=snapshot.strip())


def parse(
    body: bytes,
    settings: cfg.Settings,
    find: Finder,
) -> RestoreStart:
    """Check the request; ``find(container, prefix, choice)`` returns the snapshot id."""
    if not settings.restore_roots:
        resolve_target(None, settings.restore_roots)
    options = parse_body_object(body, OPTIONS, USAGE)
    target = resolve_target(options.get("target"), settings.restore_roots)
    container, prefix = backup_destination(
        options, settings.container, string_option, "restore", USAGE
    )
    choice = _choice(options)
    existing = string_option(options, "existing") or download.DEFAULT_EXISTING
    if existing not in download.EXISTING_MODES:
        raise RequestError(f"'existing' must be one of {', '.join(download.EXISTING_MODES)}")
    try:
        include = patterns.check(options.get("include"))
    except patterns.PatternError as exc:
        raise RequestError(str(exc)) from None
    snapshot = find(container, prefix, choice)
    job = RestoreJob(
        container=container,
        prefix=prefix,
        snapshot=snapshot,
        target=target,
        include=tuple(include),
        existing=existing,
        partition_size=settings.partition_size,
        partition_concurrency=settings.partition_concurrency,
        retry_first_interval_ms=settings.retry_first_interval_ms,
        retry_max_attempts=settings.retry_max_attempts,
    )
    return RestoreStart(job=job, instance_id=instance_id(target))
