"""One occurrence of the backup schedule: start a backup of every configured root.

Each root's start goes through the HTTP starter's own code: the request is checked by
``sitebackup.request``, the destination claimed and the backup started by
``sitebackup.starting``, so a root whose backup still runs (from the last occurrence, or
started by hand) gets no second one; the log says so.

With a retention policy (``BACKUP_RETENTION``), each scheduled backup carries it and prunes
its destination as its own last step, once its snapshot is written: a prune shares the
destination's instance id with the backup, so it cannot be started beside the backup this
occurrence has just started (see ``sitebackup.orchestration``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import azure.durable_functions as df

from sitebackup import function_names, ownership, schedule_roots, starting
from sitebackup import request as start_request
from sitebackup import settings as cfg
from sitebackup.errors import ConfigError, RequestError, StorageError

log = logging.getLogger(__name__)

STARTED = "started"
RUNNING = "running"
FAILED = "failed"
OFF = "off"


@dataclass(frozen=True)
class RootResult:
    path: str
    state: str  # STARTED, RUNNING or FAILED
    instance_id: str | None = None
    detail: str = ""
    start: start_request.StartRequest | None = None


_off_logged = False


def _log_off(reason: str) -> None:
    # Once per worker process: an idle schedule must not fill the log every occurrence.
    global _off_logged
    if not _off_logged:
        log.info("scheduled backups are off: %s", reason)
        _off_logged = True


async def run_occurrence(
    starter: str,
    past_due: bool = False,
    env: Mapping[str, str] | None = None,
) -> list[RootResult]:
    """Start one backup per configured root; returns what happened to each."""
    env = os.environ if env is None else env
    try:
        roots = schedule_roots.parse(env.get(schedule_roots.SETTING) or "")
        settings = cfg.load(env)
    except ConfigError as exc:
        log.error("scheduled backup: the app is misconfigured, nothing started: %s", exc)
        return []
    if not roots:
        _log_off(f"app setting {schedule_roots.SETTING} lists no directory")
        return []
    if past_due:
        log.warning("scheduled backup: this occurrence is past due (the host was down)")
    client = df.DurableOrchestrationClient(starter)
    results = []
    seen: set[str] = set()
    for options in roots:
        result = await _start_root(client, options, settings, seen, env, starter)
        results.append(result)
    return results


async def _start_root(
    client: df.DurableOrchestrationClient,
    options: dict[str, Any],
    settings: cfg.Settings,
    seen: set[str],
    env: Mapping[str, str],
    starter: str | None = None,
) -> RootResult:
    path = str(options.get("path"))
    try:
        start = start_request.build(options, settings)
    except RequestError as exc:
        log.error("scheduled backup of %r not started: %s", path, exc)
        return RootResult(path, FAILED, detail=str(exc))
    if not settings.retention.empty:
        start = dataclasses.replace(
            start, job=dataclasses.replace(start.job, retention=settings.retention)
        )
    instance_id = start.instance_id
    try:
        claim = await asyncio.to_thread(starting.claim_destination, start, env)
    except (StorageError, ConfigError) as exc:
        log.error(
            "scheduled backup of %r not started: cannot read the backup storage: %s", path, exc
        )
        return RootResult(path, FAILED, instance_id, str(exc), start)
    if not claim.owned_by(start.job.root):
        message = ownership.conflict_message(
            start.job.root, claim.owner, start.job.container, start.job.prefix
        )
        log.error("scheduled backup of %r not started: %s", path, message)
        return RootResult(path, FAILED, instance_id, message, start)
    if instance_id in seen:
        log.warning(
            "scheduled backup of %r: listed twice; started once",
            path,
        )
        return RootResult(path, RUNNING, instance_id, "listed twice", start)
    seen.add(instance_id)
    try:
        outcome = await starting.start_once(
            client,
            function_names.BACKUP_ORCHESTRATOR,
            instance_id,
            start.job.to_input(),
            binding=starter,
        )
    except (starting.HostUnavailable, starting.StartRefused) as exc:
        detail = (
            "the Durable Functions host did not answer"
            if isinstance(exc, starting.HostUnavailable)
            else "the Durable Functions host refused the start"
        )
        log.error("scheduled backup of %r not started: %s", path, detail)
        return RootResult(path, FAILED, instance_id, detail, start)
    if outcome.child_running:
        log.warning(
            "scheduled backup of %r not started: %s of an earlier run is still running "
            "(stop it with: site-backup terminate %s)",
            path,
            outcome.child_running,
            instance_id,
        )
        return RootResult(path, RUNNING, instance_id, "an earlier run's partitions run", start)
    if outcome.running:
        log.warning(
            "scheduled backup of %r not started: the backup %s is still %s; nothing new "
            "started this time",
            path,
            instance_id,
            outcome.running.lower(),
        )
        return RootResult(path, RUNNING, instance_id, outcome.running, start)
    log.info(
        "scheduled backup started %s: %s -> %s/%s",
        instance_id,
        start.job.root,
        start.job.container,
        start.job.prefix,
    )
    return RootResult(path, STARTED, instance_id, "", start)
