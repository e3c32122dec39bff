"""The prune job: what the starter puts into the orchestration input (JSON-ready)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sitebackup import request
from sitebackup import settings as cfg
from sitebackup.errors import JobError, NamingError, echo
from sitebackup.job import retry_input
from sitebackup.naming import container_name_problem, normalize_prefix
from sitebackup.retention import Policy


@dataclass(frozen=True)
class PruneJob:
    container: str
    prefix: str
    policy: Policy
    dry_run: bool = False
    retry_first_interval_ms: int = cfg.DEFAULT_RETRY_FIRST_INTERVAL_MS
    retry_max_attempts: int = cfg.DEFAULT_RETRY_MAX_ATTEMPTS

    def descriptor(self) -> dict[str, Any]:
        """What every prune activity needs."""
        return {
            "container": self.container,
            "prefix": self.prefix,
            "policy": self.policy.to_json(),
            "dryRun": self.dry_run,
        }

    def to_input(self) -> dict[str, Any]:
        return {
            **self.descriptor(),
            "retry": retry_input(self.retry_first_interval_ms, self.retry_max_attempts),
        }

    @classmethod
    def from_input(cls, value: Any) -> PruneJob:
        if not isinstance(value, dict):
            raise JobError("the prune input must be an object with 'container' and 'prefix'")
        container, prefix = value.get("container"), value.get("prefix")
        if not isinstance(container, str) or container_name_problem(container):
            raise JobError(f"'container' {echo(container)} is not a container name")
        if not isinstance(prefix, str):
            raise JobError("'prefix' must be a string")
        try:
            prefix = normalize_prefix(prefix)
            policy = Policy.from_json(value.get("policy"))
        except (NamingError, ValueError) as exc:
            raise JobError(str(exc)) from None
        if policy.empty:
            raise JobError("the retention policy keeps nothing in particular: name a rule")
        dry_run = value.get("dryRun", False)
        if not isinstance(dry_run, bool):
            raise JobError("'dryRun' must be true or false")
        retry = value.get("retry") or {}
        first = retry.get("firstIntervalMs", cfg.DEFAULT_RETRY_FIRST_INTERVAL_MS)
        attempts = retry.get("maxAttempts", cfg.DEFAULT_RETRY_MAX_ATTEMPTS)
        for key, item in (("firstIntervalMs", first), ("maxAttempts", attempts)):
            if isinstance(item, bool) or not isinstance(item, int) or item < 1:
                raise JobError(f"'retry.{key}' must be a positive integer")
        return cls(container, prefix, policy, dry_run, first, attempts)


def instance_id(container: str, prefix: str) -> str:
    """The destination's backup instance id: a prune never runs beside a backup of the same
    destination (the starter answers 409), so it cannot delete what a running backup is
    about to list. The last prune then takes the place of the last backup's status."""
    return request.instance_id(container, prefix)
