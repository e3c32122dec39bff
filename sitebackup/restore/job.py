"""The restore job: what the starter puts into the restore orchestration's input.

Everything is fixed when the restore starts: the snapshot is a concrete id (``latest`` and
"as of" are resolved by the starter), so a replay, a retry or a re-run after a crash all
restore the same thing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from sitebackup import settings as cfg
from sitebackup.errors import JobError, NamingError, echo
from sitebackup.job import positive_int, retry_input
from sitebackup.naming import container_name_problem, normalize_prefix
from sitebackup.restore import download, patterns


@dataclass(frozen=True)
class RestoreJob:
    container: str
    prefix: str
    snapshot: str  # the manifest's key (its id)
    target: str  # real path of the folder to restore into
    include: tuple[str, ...] = field(default_factory=tuple)
    existing: str = download.DEFAULT_EXISTING
    partition_size: int = cfg.DEFAULT_PARTITION_SIZE
    partition_concurrency: int = cfg.DEFAULT_PARTITION_CONCURRENCY
    retry_first_interval_ms: int = cfg.DEFAULT_RETRY_FIRST_INTERVAL_MS
    retry_max_attempts: int = cfg.DEFAULT_RETRY_MAX_ATTEMPTS

    def descriptor(self) -> dict[str, Any]:
        """What every restore activity needs: where from, which snapshot, where to."""
        return {
            "container": self.container,
            "prefix": self.prefix,
            "snapshot": self.snapshot,
            "target": self.target,
            "include": list(self.include),
            "existing": self.existing,
        }

    def to_input(self) -> dict[str, Any]:
        return {
            **self.descriptor(),
            "partitionSize": self.partition_size,
            "partitionConcurrency": self.partition_concurrency,
            "retry": retry_input(self.retry_first_interval_ms, self.retry_max_attempts),
        }

    @classmethod
    def from_input(cls, value: Any) -> RestoreJob:
        """Check an orchestration or activity input; JobError says which field is wrong."""
        if not isinstance(value, dict):
            raise JobError(f"the restore input must be a JSON object, got {type(value).__name__}")
        container = _text(value, "container")
        problem = container_name_problem(container)
        if problem:
            raise JobError(f"'container' {echo(container)} is not valid: {problem}")
        try:
            prefix = normalize_prefix(_text(value, "prefix", allow_empty=True))
        except NamingError as exc:
            raise JobError(f"'prefix' is not valid: {exc}") from None
        target = _text(value, "target")
        if "\x00" in target or not os.path.isabs(target):
            raise JobError(f"'target' must be an absolute path, got {echo(target)}")
        existing = value.get("existing", download.DEFAULT_EXISTING)
        if existing not in download.EXISTING_MODES:
            raise JobError(f"'existing' must be one of {', '.join(download.EXISTING_MODES)}")
        try:
            include = patterns.check(value.get("include"))
        except patterns.PatternError as exc:
            raise JobError(str(exc)) from None
        retry = value.get("retry") or {}
        if not isinstance(retry, dict):
            raise JobError("'retry' must be an object with firstIntervalMs and maxAttempts")
        return cls(
            container=container,
            prefix=prefix,
            snapshot=_text(value, "snapshot"),
            target=target,
            include=tuple(include),
            existing=existing,
            partition_size=positive_int(value, "partitionSize", cfg.DEFAULT_PARTITION_SIZE),
            partition_concurrency=positive_int(
                value, "partitionConcurrency", cfg.DEFAULT_PARTITION_CONCURRENCY
            ),
            retry_first_interval_ms=positive_int(
                retry, "firstIntervalMs", cfg.DEFAULT_RETRY_FIRST_INTERVAL_MS
            ),
            retry_max_attempts=positive_int(retry, "maxAttempts", cfg.DEFAULT_RETRY_MAX_ATTEMPTS),
        )


def _text(value: dict, key: str, allow_empty: bool = False) -> str:
    item = value.get(key, "" if allow_empty else None)
    if not isinstance(item, str) or (not item and not allow_empty):
        raise JobError(f"'{key}' must be a non-empty string")
    return item
