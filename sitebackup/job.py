"""The backup job: what the starter puts into the orchestration input.

Everything the orchestrators need travels in the input (not in app settings), so a replay
sees exactly what the first execution saw. Activities receive the small ``descriptor()``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

from sitebackup import settings as cfg
from sitebackup.errors import JobError, NamingError, RuleError, echo
from sitebackup.naming import container_name_problem, default_prefix, normalize_prefix
from sitebackup.retention import Policy
from sitebackup.rules import check_patterns


@dataclass(frozen=True)
class Job:
    root: str
    container: str = cfg.DEFAULT_CONTAINER
    prefix: str = ""
    compare: str = cfg.DEFAULT_COMPARE
    partition_size: int = cfg.DEFAULT_PARTITION_SIZE
    partition_concurrency: int = cfg.DEFAULT_PARTITION_CONCURRENCY
    retry_first_interval_ms: int = cfg.DEFAULT_RETRY_FIRST_INTERVAL_MS
    retry_max_attempts: int = cfg.DEFAULT_RETRY_MAX_ATTEMPTS
    # Include/exclude rules (sitebackup.rules): the setting's excludes are copied in at the
    # start, so a replay sees the rules the first execution saw.
    exclude_defaults: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    ignore_file: bool = True
    dry_run: bool = False
    # A retention policy to apply once the run's snapshot is written (scheduled backups
    # with BACKUP_RETENTION): the backup prunes its destination as its last step.
    retention: Policy | None = None

    def to_input(self) -> dict[str, Any]:
        """The orchestration input (JSON-ready)."""
        value = {
            **self.listing_input(),
            "partitionSize": self.partition_size,
            "partitionConcurrency": self.partition_concurrency,
            "retry": retry_input(self.retry_first_interval_ms, self.retry_max_attempts),
        }
        if self.retention is not None:
            value["retention"] = self.retention.to_json()
        return value

    def rules_input(self) -> dict[str, Any]:
        return {
            "excludeDefaults": list(self.exclude_defaults),
            "exclude": list(self.exclude),
            "include": list(self.include),
            "ignoreFile": self.ignore_file,
        }

    def listing_input(self) -> dict[str, Any]:
        """What the listing activity needs: the descriptor, the rules, whether to write."""
        return {**self.descriptor(), "rules": self.rules_input(), "dryRun": self.dry_run}

    def descriptor(self) -> dict[str, str]:
        """What every activity needs to know about the job: where from, where to."""
        return {
            "root": self.root,
            "container": self.container,
            "prefix": self.prefix,
            "compare": self.compare,
        }

    @classmethod
    def from_input(cls, value: Any) -> Job:
        """Check an orchestration or activity input; JobError says which field is wrong.

        A bare string is taken as the root, as in the documented sample. Missing fields get
        the defaults (the prefix defaults to the root folder's name).
        """
        if isinstance(value, str):
            value = {"root": value}
        if not isinstance(value, dict):
            raise JobError(
                f"the input must be a JSON object or a string, got {type(value).__name__}"
            )
        root = value.get("root", value.get("path"))
        if not isinstance(root, str) or not root:
            raise JobError("'root' must be a non-empty string (the directory to back up)")
        if "\x00" in root or not os.path.isabs(root):
            raise JobError(f"'root' must be an absolute path, got {echo(root)}")
        container = _str(value, "container", cfg.DEFAULT_CONTAINER)
        problem = container_name_problem(container)
        if problem:
            raise JobError(f"'container' {echo(container)} is not valid: {problem}")
        prefix_raw = value.get("prefix")
        try:
            prefix = normalize_prefix(
                default_prefix(root) if prefix_raw is None else _str(value, "prefix", "")
            )
        except NamingError as exc:
            raise JobError(f"'prefix' is not valid: {exc}") from None
        compare = _str(value, "compare", cfg.DEFAULT_COMPARE)
        if compare not in cfg.COMPARE_MODES:
            raise JobError(f"'compare' must be one of {', '.join(cfg.COMPARE_MODES)}")
        retry = value.get("retry")
        retry = {} if retry is None else retry
        if not isinstance(retry, dict):
            raise JobError("'retry' must be an object with firstIntervalMs and maxAttempts")
        rules = value.get("rules")
        rules = {} if rules is None else rules
        if not isinstance(rules, dict):
            raise JobError("'rules' must be an object with exclude, include and ignoreFile")
        try:
            exclude_defaults = check_patterns(
                rules.get("excludeDefaults"), "'rules.excludeDefaults'"
            )
            exclude = check_patterns(rules.get("exclude"), "'rules.exclude'")
            include = check_patterns(rules.get("include"), "'rules.include'")
        except RuleError as exc:
            raise JobError(str(exc)) from None
        return cls(
            root=root,
            container=container,
            prefix=prefix,
            compare=compare,
            partition_size=positive_int(value, "partitionSize", cfg.DEFAULT_PARTITION_SIZE),
            partition_concurrency=positive_int(
                value, "partitionConcurrency", cfg.DEFAULT_PARTITION_CONCURRENCY
            ),
            retry_first_interval_ms=positive_int(
                retry, "firstIntervalMs", cfg.DEFAULT_RETRY_FIRST_INTERVAL_MS, "retry."
            ),
            retry_max_attempts=positive_int(
                retry, "maxAttempts", cfg.DEFAULT_RETRY_MAX_ATTEMPTS, "retry."
            ),
            exclude_defaults=exclude_defaults,
            exclude=exclude,
            include=include,
            ignore_file=_flag(rules, "ignoreFile", True, "rules."),
            dry_run=_flag(value, "dryRun", False),
            retention=_retention(value.get("retention")),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def retry_input(first_interval_ms: int, max_attempts: int) -> dict[str, int]:
    """A job input's ``retry`` object: how its activities are retried."""
    return {"firstIntervalMs": first_interval_ms, "maxAttempts": max_attempts}


def _str(value: dict, key: str, default: str) -> str:
    item = value.get(key)
    if item is None:
        return default
    if not isinstance(item, str):
        raise JobError(f"'{key}' must be a string, got {type(item).__name__}")
    return item


def positive_int(value: dict, key: str, default: int, where: str = "") -> int:
    """``value[key]`` if it is a positive integer, ``default`` if it is missing; ``where``
    names the object it sits in, for the message."""
    item = value.get(key)
    if item is None:
        return default
    # bool is an int subclass; true/false here is a mistake, not a count.
    if isinstance(item, bool) or not isinstance(item, int) or item < 1:
        raise JobError(f"'{where}{key}' must be a positive integer, got {echo(item)}")
    return item


def _flag(value: dict, key: str, default: bool, where: str = "") -> bool:
    item = value.get(key)
    if item is None:
        return default
    if not isinstance(item, bool):
        raise JobError(f"'{where}{key}' must be true or false, got {echo(item)}")
    return item


def _retention(value: Any) -> Policy | None:
    if value is None:
        return None
    try:
        policy = Policy.from_json(value)
    except ValueError as exc:
        raise JobError(f"'retention' is not a retention policy: {exc}") from None
    if policy.empty:
        raise JobError("'retention' keeps nothing in particular: name a rule")
    return policy
