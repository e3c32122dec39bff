"""The prune starter's request: which destination, which policy, dry run or not (pure).

Every problem raises ``RequestError`` (the starter answers 400 and starts nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sitebackup import settings as cfg
from sitebackup.errors import RequestError
from sitebackup.prune.job import PruneJob, instance_id
from sitebackup.request import backup_destination, parse_body_object
from sitebackup.retention import Policy

RULE_OPTIONS = {
    "keepLast": "last",
    "keepDaily": "daily",
    "keepWeekly": "weekly",
    "keepMonthly": "monthly",
}
OPTIONS = ("path", "container", "prefix", *RULE_OPTIONS, "dryRun")
USAGE = (
    'send {"path": "/dir/that/was/backed/up" (or "container" and "prefix"), "keepLast": N, '
    '"keepDaily": N, "keepWeekly": N, "keepMonthly": N, "dryRun": true|false}'
)


@dataclass(frozen=True)
class PruneStart:
    job: PruneJob
    instance_id: str


def _string(options: dict[str, Any], key: str) -> str | None:
    value = options.get(key)
    if value is not None and not isinstance(value, str):
        raise RequestError(f"'{key}' must be a string")
    return value


def _destination(options: dict[str, Any], settings: cfg.Settings) -> tuple[str, str]:
    return backup_destination(options, settings.container, _string, "prune", USAGE)


def _policy(options: dict[str, Any], settings: cfg.Settings) -> Policy:
    given = {rule: options[key] for key, rule in RULE_OPTIONS.items() if key in options}
    if not given:
        if settings.retention.empty:
            raise RequestError(
                "no retention policy: give keepLast, keepDaily, keepWeekly or keepMonthly, "
                f"or set the app setting {cfg.RETENTION} (e.g. last=7,daily=14,weekly=8)"
            )
        return settings.retention
    try:
        policy = Policy.from_json(given)
    except ValueError as exc:
        message = str(exc)
        for key, rule in RULE_OPTIONS.items():
            message = message.replace(f"rule {rule!r}", f"'{key}'")
        raise RequestError(message) from None
    if policy.empty:
        raise RequestError(
            "every keep rule is 0: that would drop every snapshot; keep at least one"
        )
    return policy


def parse(body: bytes, settings: cfg.Settings) -> PruneStart:
    options = parse_body_object(body, OPTIONS, USAGE)
    container, prefix = _destination(options, settings)
    policy = _policy(options, settings)
    dry_run = options.get("dryRun", False)
    if not isinstance(dry_run, bool):
        raise RequestError("'dryRun' must be true or false")
    job = PruneJob(
        container=container,
        prefix=prefix,
        policy=policy,
        dry_run=dry_run,
        retry_first_interval_ms=settings.retry_first_interval_ms,
        retry_max_attempts=settings.retry_max_attempts,
    )
    return PruneStart(job=job, instance_id=instance_id(container, prefix))
