"""One occurrence of the backup schedule: start a backup of every configured root.

Each root's start goes through the HTTP starter's own code: the request is checked by
``sitebackup.request`` and started by ``sitebackup.starting``, so a root whose backup still
runs (from the last occurrence, or started by hand) gets no second one; the log says so.
After the starts, the retention hook runs for the destinations of this schedule.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import azure.durable_functions as df

from sitebackup import function_names, schedule_roots, starting
from sitebackup import request as start_request
from sitebackup import settings as cfg
from sitebackup.errors import ConfigError, RequestError

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


# What applies the retention policy after an occurrence's starts: given the durable client,
# the occurrence's results and the app settings. The prune orchestration plugs in here.
RetentionHook = Callable[
    [df.DurableOrchestrationClient, Sequence[RootResult], Mapping[str, str]], Awaitable[None]
]


async def no_retention(
    client: df.DurableOrchestrationClient,
    results: Sequence[RootResult],
    env: Mapping[str, str],
) -> None:
    """The default hook: this app has no prune orchestration yet, so nothing is pruned."""
    return None


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
    retention: RetentionHook = no_retention,
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
        result = await _start_root(client, options, settings, seen)
        results.append(result)
    await retention(client, results, env)
    return results


async def _start_root(
    client: df.DurableOrchestrationClient,
    options: dict[str, Any],
    settings: cfg.Settings,
    seen: set[str],
) -> RootResult:
    path = str(options.get("path"))
    try:
        start = start_request.build(options, settings)
    except RequestError as exc:
        log.error("scheduled backup of %r not started: %s", path, exc)
        return RootResult(path, FAILED, detail=str(exc))
    instance_id = start.instance_id
    if instance_id in seen:
        log.warning(
            "scheduled backup of %r: listed twice for the same destination; started once",
            path,
        )
        return RootResult(path, RUNNING, instance_id, "listed twice", start)
    seen.add(instance_id)
    try:
        outcome = await starting.start_once(
            client, function_names.BACKUP_ORCHESTRATOR, instance_id, start.job.to_input()
        )
    except (starting.HostUnavailable, starting.StartRefused) as exc:
        detail = (
            "the Durable Functions host did not answer"
            if isinstance(exc, starting.HostUnavailable)
            else "the Durable Functions host refused the start"
        )
        log.error("scheduled backup of %r not started: %s", path, detail)
        return RootResult(path, FAILED, instance_id, detail, start)
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
