"""Start an orchestration at most once per instance id, through the durable client.

Shared by the HTTP starter and the scheduled backup, so both refuse a second backup of a
destination the same way: claim the destination for the root (``claim_destination``), look
up the instance, start it when nothing of that id runs, and when the start fails, look again
(another caller may have started it in between).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import azure.durable_functions as df

from sitebackup import earlier_runs, ownership, snapshot_store
from sitebackup import request as start_request

log = logging.getLogger(__name__)

ACTIVE = frozenset({"Running", "Pending", "Suspended", "ContinuedAsNew"})


class HostUnavailable(Exception):
    """The Durable Functions host did not answer a status lookup."""


class StartRefused(Exception):
    """The Durable Functions host refused the start, and nothing of that id runs."""


@dataclass(frozen=True)
class Outcome:
    instance_id: str
    running: str | None = None  # the runtime status of an instance already active, if any
    # A sub-orchestration an earlier run left running (its parent was terminated), if any.
    child_running: str | None = None

    @property
    def started(self) -> bool:
        return self.running is None and self.child_running is None


async def active_status(client: df.DurableOrchestrationClient, instance_id: str) -> str | None:
    """The runtime status of the instance when it is still running, else None."""
    status = await client.get_status(instance_id)
    runtime = getattr(status, "runtime_status", None)
    value = getattr(runtime, "value", runtime)
    return value if status and value in ACTIVE else None


async def start_once(
    client: df.DurableOrchestrationClient,
    name: str,
    instance_id: str,
    value: Any,
    binding: str | None = None,
) -> Outcome:
    """Start ``name`` as ``instance_id`` unless an instance of that id is active.

    With the client ``binding`` (its JSON), also unless a sub-orchestration an earlier run
    of that id left is still active (``Outcome.child_running``); the earlier runs' finished
    sub-orchestrations are purged before the start (``earlier_runs.settle``).

    Raises HostUnavailable when the first lookup fails, StartRefused when the start failed
    and no instance of that id turned out to be running.
    """
    try:
        runtime = await active_status(client, instance_id)
    except Exception as exc:
        log.exception("could not read the status of %s", instance_id)
        raise HostUnavailable(instance_id) from exc
    if runtime:
        return Outcome(instance_id, runtime)
    if binding is not None:
        try:
            child = await earlier_runs.settle(binding, client, instance_id)
        except earlier_runs.QueryFailed as exc:
            log.error("could not list the sub-orchestrations of %s: %s", instance_id, exc)
            raise HostUnavailable(instance_id) from exc
        if child:
            return Outcome(instance_id, child_running=child)
    try:
        await client.start_new(name, instance_id, value)
    except Exception as exc:
        # Another caller may have started the same instance between our check and our start.
        try:
            runtime = await active_status(client, instance_id)
        except Exception:
            runtime = None
        if runtime:
            return Outcome(instance_id, runtime)
        log.exception("could not start %s", instance_id)
        raise StartRefused(instance_id) from exc
    return Outcome(instance_id)


def claim_destination(
    start: start_request.StartRequest, env: Mapping[str, str] | None = None
) -> ownership.Claim:
    """Who owns the backup's destination once this request has claimed it (a dry run, which
    writes nothing, only looks). Blocking storage calls: run it off the event loop."""
    job = start.job
    meta = snapshot_store.meta_container(env)
    if job.dry_run:
        owner = ownership.owner_of(meta, job.container, job.prefix)
        return ownership.Claim(owner=job.root if owner is None or start.take_over else owner)
    return ownership.claim(meta, job.container, job.prefix, job.root, take_over=start.take_over)
