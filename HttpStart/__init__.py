"""HTTP starter: POST /orchestrators/E2_BackupSiteContent with the directory to back up, or
POST /orchestrators/E2_RestoreSnapshot with the snapshot to restore and the target folder, or
POST /orchestrators/E2_PruneSnapshots with the destination and the retention policy.

Checks the request completely before anything starts (400/404 with a JSON ``error``), keeps
each backup destination (container + prefix) to the one root that owns it (409 naming both
roots otherwise, unless the request says ``"takeOver": true``), runs at most one backup per
destination and one restore per target folder (409 while one runs), answers 202 with the
status URLs.
"""

import asyncio
import json
import logging

import azure.durable_functions as df
import azure.functions as func

from sitebackup import function_names, ownership, starting
from sitebackup import request as start_request
from sitebackup import settings as cfg
from sitebackup.errors import ConfigError, RequestError, StorageError, echo
from sitebackup.prune import request as prune_request
from sitebackup.restore import start as restore_start

log = logging.getLogger(__name__)

_WHAT_RUNS = {
    function_names.BACKUP_ORCHESTRATOR: "a backup into this destination",
    function_names.RESTORE_ORCHESTRATOR: "a restore into this folder",
    # A prune shares the backup's instance id, so the two never run at once.
    function_names.PRUNE_ORCHESTRATOR: "a backup or prune of this destination",
}


def _json(status: int, body: dict) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(body), status_code=status, headers={"Content-Type": "application/json"}
    )


def _conflict(
    client: df.DurableOrchestrationClient, instance_id: str, runtime: str, name: str
) -> func.HttpResponse:
    body = {
        "error": (
            f"{_WHAT_RUNS[name]} is already {runtime.lower()} "
            f"(instance {instance_id}); follow it with statusQueryGetUri, or terminate it "
            "before starting again"
        ),
        "runtimeStatus": runtime,
        **client.create_http_management_payload(instance_id),
    }
    return _json(409, body)


def _children_stopping(
    client: df.DurableOrchestrationClient, instance_id: str, child: str
) -> func.HttpResponse:
    # A terminate through the Durable HTTP API stops only the parent; its partitions copy on.
    body = {
        "error": (
            f"an earlier run's partitions are still stopping ({child} still runs) and may "
            "still be writing to the destination; wait for them to end, or stop them with "
            f"'site-backup terminate {instance_id}', then start again"
        ),
        "runtimeStatus": "Running",
        "stillRunning": child,
        **client.create_http_management_payload(instance_id),
    }
    return _json(409, body)


def _owned_elsewhere(start: start_request.StartRequest, owner: str) -> func.HttpResponse:
    job = start.job
    body = {
        "error": ownership.conflict_message(job.root, owner, job.container, job.prefix),
        "owner": owner,
        "root": job.root,
        "container": job.container,
        "prefix": job.prefix,
    }
    return _json(409, body)


async def main(req: func.HttpRequest, starter: str) -> func.HttpResponse:
    requested = req.route_params.get("functionName") or ""
    startable = {name.lower(): name for name in function_names.STARTABLE_ORCHESTRATORS}
    name = startable.get(requested.lower())
    if name is None:
        return _json(
            404,
            {
                "error": f"there is no orchestrator {echo(requested)} to start here; "
                f"POST to /orchestrators/{function_names.BACKUP_ORCHESTRATOR}, "
                f"/orchestrators/{function_names.RESTORE_ORCHESTRATOR} or "
                f"/orchestrators/{function_names.PRUNE_ORCHESTRATOR}"
            },
        )
    try:
        settings = cfg.load()
    except ConfigError as exc:
        log.error("configuration problem: %s", exc)
        return _json(500, {"error": f"the app is misconfigured: {exc}"})
    try:
        if name == function_names.RESTORE_ORCHESTRATOR:
            # Choosing the snapshot reads storage: off the event loop.
            start = await asyncio.to_thread(restore_start.parse, req.get_body(), settings)
        elif name == function_names.PRUNE_ORCHESTRATOR:
            start = prune_request.parse(req.get_body(), settings)
        else:
            start = start_request.parse(req.get_body(), settings)
    except RequestError as exc:
        return _json(400, {"error": str(exc)})
    except (StorageError, ConfigError) as exc:
        log.error("cannot check the request: %s", exc)
        return _json(503, {"error": f"cannot read the backup storage now: {exc}"})

    if name == function_names.BACKUP_ORCHESTRATOR:
        try:
            # Storage decides which of two simultaneous starts owns a new destination.
            claim = await asyncio.to_thread(starting.claim_destination, start)
        except ConfigError as exc:
            log.error("configuration problem: %s", exc)
            return _json(500, {"error": f"the app is misconfigured: {exc}"})
        except StorageError as exc:
            # Nothing starts without its owner record: a storage that cannot be read now
            # could not take the backup's files either.
            log.error("could not record the owner of the destination: %s", exc)
            return _json(503, {"error": f"cannot record the destination's owner: {exc}"})
        if not claim.owned_by(start.job.root):
            return _owned_elsewhere(start, claim.owner)
        if claim.taken_over_from:
            log.warning(
                "%s/%s taken over by %s from %s",
                start.job.container,
                start.job.prefix,
                start.job.root,
                claim.taken_over_from,
            )

    client = df.DurableOrchestrationClient(starter)
    instance_id = start.instance_id
    try:
        outcome = await starting.start_once(
            client, name, instance_id, start.job.to_input(), binding=starter
        )
    except starting.HostUnavailable:
        return _json(503, {"error": "the Durable Functions host did not answer; try again"})
    except starting.StartRefused:
        return _json(502, {"error": "the Durable Functions host refused to start it"})
    if outcome.running:
        return _conflict(client, instance_id, outcome.running, name)
    if outcome.child_running:
        return _children_stopping(client, instance_id, outcome.child_running)
    log.info("started %s (%s): %s", instance_id, name, start.job.descriptor())
    return client.create_check_status_response(req, instance_id)
