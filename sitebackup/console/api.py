"""The console's JSON API (the ``ConsoleApi`` function): what the page calls.

    GET  console-api/config                 allowed roots and the start form's options
    GET  console-api/runs?limit&cursor&status&root&from&to    newest-first page of runs
    GET  console-api/runs/{id}              one run: progress, failed files, timeline
    POST console-api/runs/{id}/terminate    stop a running one

Every answer is JSON; every error is ``{"error": "<what is wrong and what to do>"}`` with a
4xx status for a bad request and 502/503 when the durable host does not answer. Starting a
backup is the app's own starter (``HttpStart``), so the page and the client share one set of
checks and messages.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import azure.durable_functions as df
import azure.functions as func

from sitebackup import children, earlier_runs, snapshot_store
from sitebackup import function_names as names
from sitebackup import request as start_request
from sitebackup import settings as cfg
from sitebackup.console import paging, runs, snapshots, timeline
from sitebackup.console.durable import TIMEOUT, DurableReader, DurableUnavailable
from sitebackup.console.paging import TooMany
from sitebackup.errors import ConfigError, NamingError, StorageError, echo
from sitebackup.manifest import ManifestError
from sitebackup.naming import container_name_problem, normalize_prefix
from sitebackup.restore import download

log = logging.getLogger(__name__)

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
LABELS = {
    names.LIST_ACTIVITY: "listing",
    names.PARTITION_ORCHESTRATOR: "partition",
    names.PREPARE_RESTORE_ACTIVITY: "preparing",
    names.RESTORE_PARTITION_ORCHESTRATOR: "partition",
    names.FINISH_RESTORE_ACTIVITY: "finishing",
    names.PLAN_PRUNE_ACTIVITY: "planning",
    names.DROP_SNAPSHOTS_ACTIVITY: "dropping snapshots",
    names.SWEEP_CONTENT_ACTIVITY: "sweeping content",
    names.SWEEP_RUNS_ACTIVITY: "sweeping run pages",
}
_BAD_ID = re.compile(r"[\x00-\x1f\x7f/\\?#]")


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _json(status: int, body: Any) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(body),
        status_code=status,
        headers={"Content-Type": "application/json", "Cache-Control": "no-store"},
    )


def _error(status: int, message: str) -> func.HttpResponse:
    return _json(status, {"error": message})


def _now() -> datetime:
    return datetime.now(UTC)


async def handle(req: func.HttpRequest, starter: str) -> func.HttpResponse:
    path = (req.route_params.get("path") or "").strip("/")
    parts = path.split("/") if path else []
    method = req.method.upper()
    try:
        if parts == ["config"] and method == "GET":
            return _json(200, config(req.url))
        if parts == ["runs"] and method == "GET":
            async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
                return _json(200, await list_runs(DurableReader(starter, session), req.params))
        if len(parts) == 2 and parts[0] == "runs" and method == "GET":
            async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
                return _json(200, await run_detail(DurableReader(starter, session), parts[1]))
        if len(parts) == 3 and parts[0] == "runs" and parts[2] == "terminate" and method == "POST":
            return await terminate(starter, parts[1], req.get_body())
        if parts == ["destinations"] and method == "GET":
            return _json(200, await _in_thread(snapshots.destinations))
        if parts == ["snapshots"] and method == "GET":
            container, prefix = _destination(req.params)
            offset, limit = _window(req.params, 25, 100)
            return _json(
                200,
                await _in_thread(snapshots.snapshot_page, container, prefix, offset, limit),
            )
        if len(parts) == 3 and parts[0] == "snapshots" and parts[2] == "tree" and method == "GET":
            container, prefix = _destination(req.params)
            offset, limit = _window(req.params, 200, 1000)
            path = req.params.get("path") or ""
            if "\x00" in path or len(path) > 4096:
                raise BadRequest(400, "'path' must be a folder of the snapshot")
            return _json(
                200,
                await _in_thread(
                    snapshots.browse, container, prefix, parts[1], path, offset, limit
                ),
            )
        known = {"config", "runs", "destinations", "snapshots"}
        if parts and parts[0] in known:
            raise BadRequest(
                405 if len(parts) <= 3 else 404,
                f"{method} /{echo(path)[1:-1]} is not something the console API answers",
            )
        raise BadRequest(
            404, f"the console API has no {echo('/' + path)}; see GET console-api/config"
        )
    except BadRequest as exc:
        return _error(exc.status, str(exc))
    except ConfigError as exc:
        log.error("configuration problem: %s", exc)
        return _error(500, f"the app is misconfigured: {exc}")
    except DurableUnavailable as exc:
        return _error(503, str(exc))
    except snapshots.NotFound as exc:
        return _error(404, str(exc))
    except ManifestError as exc:
        return _error(502, f"a snapshot manifest cannot be read: {exc}")
    except StorageError as exc:
        return _error(503, f"blob storage did not answer as expected: {exc}")
    except Exception as exc:
        # The page shows this message; the details (and any stack) stay in the host's log.
        log.exception("console API %s /%s failed", method, path)
        return _error(
            500, f"the console API failed ({type(exc).__name__}); the app's log has the details"
        )


async def _in_thread(function: Any, *args: Any) -> Any:
    """Blob storage calls are synchronous: keep them off the host's event loop."""
    meta = snapshot_store.meta_container()
    return await asyncio.to_thread(function, meta, *args)


def _destination(params: Any) -> tuple[str, str]:
    container = params.get("container") or ""
    problem = container_name_problem(container) if container else "it is missing"
    if problem:
        raise BadRequest(400, f"'container' {echo(container)} is not valid: {problem}")
    prefix = params.get("prefix") or ""
    try:
        return container, normalize_prefix(prefix)
    except NamingError as exc:
        raise BadRequest(400, f"'prefix' is not valid: {exc}") from None


def _window(params: Any, default: int, most: int) -> tuple[int, int]:
    values = []
    for key, fallback, low, high in (("offset", 0, 0, 10**9), ("limit", default, 1, most)):
        raw = (params.get(key) or "").strip()
        if raw and (not raw.isdigit() or not low <= int(raw) <= high):
            raise BadRequest(
                400, f"'{key}' must be a whole number from {low} to {high}, got {echo(raw)}"
            )
        values.append(int(raw) if raw else fallback)
    return values[0], values[1]


def config(url: str) -> dict[str, Any]:
    """What the start form offers: the allowed roots, containers, compare modes, options."""
    settings = cfg.load()
    # A path, not a URL: the page calls the starter on the origin it was loaded from.
    base = urlsplit(url).path
    base = base[: base.rfind("console-api/")] if "console-api/" in base else "/"
    return {
        "allowedRoots": list(settings.allowed_roots),
        "defaultContainer": settings.container,
        "compareModes": list(cfg.COMPARE_MODES),
        "defaultCompare": settings.compare,
        "startOptions": list(start_request.OPTIONS),
        "startUrl": base + "orchestrators/" + names.BACKUP_ORCHESTRATOR,
        "restoreUrl": base + "orchestrators/" + names.RESTORE_ORCHESTRATOR,
        "restoreRoots": list(settings.restore_roots),
        "existingModes": list(download.EXISTING_MODES),
        "defaultExisting": download.DEFAULT_EXISTING,
        "kinds": [kind.name for kind in runs.KINDS],
        "statuses": list(runs.RUNTIME_STATUSES),
        "pageLimit": MAX_LIMIT,
    }


def _time_param(params: Any, key: str) -> datetime | None:
    raw = (params.get(key) or "").strip()
    if not raw:
        return None
    try:
        return paging.parse_time(raw)
    except ValueError:
        raise BadRequest(
            400, f"'{key}' must be a date and time like 2026-01-31T08:00:00Z, got {echo(raw)}"
        ) from None


def parse_list_query(params: Any) -> dict[str, Any]:
    """Check the list's query parameters (400 with a message for anything wrong)."""
    raw_limit = (params.get("limit") or "").strip()
    limit = DEFAULT_LIMIT
    if raw_limit:
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise BadRequest(
                400, f"'limit' must be a whole number from 1 to {MAX_LIMIT}, got {echo(raw_limit)}"
            )
        limit = int(raw_limit)
    statuses = [item.strip() for item in (params.get("status") or "").split(",") if item.strip()]
    unknown = [item for item in statuses if item not in runs.RUNTIME_STATUSES]
    if unknown:
        raise BadRequest(
            400,
            f"'status' {echo(unknown[0])} is not a runtime status; use one of "
            + ", ".join(runs.RUNTIME_STATUSES),
        )
    root = (params.get("root") or "").strip()
    if root and (not root.startswith("/") or "\x00" in root):
        raise BadRequest(400, f"'root' must be an absolute path, got {echo(root)}")
    kind = (params.get("kind") or "").strip()
    kinds = [item for item in runs.KINDS if not kind or item.name == kind]
    if not kinds:
        raise BadRequest(
            400, f"'kind' must be one of {', '.join(k.name for k in runs.KINDS)}, got {echo(kind)}"
        )
    created_from = _time_param(params, "from")
    created_to = _time_param(params, "to")
    if created_from and created_to and created_from > created_to:
        raise BadRequest(400, "'from' is after 'to'; swap them")
    cursor = None
    if (params.get("cursor") or "").strip():
        try:
            cursor = paging.Cursor.decode(params["cursor"].strip())
        except ValueError as exc:
            raise BadRequest(400, str(exc)) from None
    return {
        "limit": limit,
        "statuses": statuses,
        "root": root,
        "kinds": kinds,
        "created_from": created_from,
        "created_to": created_to,
        "cursor": cursor,
    }


async def list_runs(reader: DurableReader, params: Any) -> dict[str, Any]:
    query = parse_list_query(params)
    now = _now()
    root = query["root"]
    kinds = set(query["kinds"])

    def keep(status: dict[str, Any]) -> bool:
        return runs.kind_of(status) in kinds and (
            not root or runs.under(runs.root_of(status), root)
        )

    page = await paging.newest_first(
        reader.window,
        sorted({kind.id_prefix for kind in query["kinds"]}),
        limit=query["limit"],
        now=now,
        cursor=query["cursor"],
        statuses=query["statuses"],
        created_from=query["created_from"],
        created_to=query["created_to"],
        keep=keep,
    )
    items = [runs.row(status, now) for status in page.items]
    return {
        "runs": items,
        "next": page.next.encode() if page.next else None,
        "scanned": page.scanned,
        "truncated": page.truncated,
        "anyActive": any(item["status"] in runs.ACTIVE for item in items),
        "now": now.isoformat().replace("+00:00", "Z"),
    }


def _check_id(instance_id: str) -> str:
    if not instance_id or len(instance_id) > 256 or _BAD_ID.search(instance_id):
        raise BadRequest(400, f"{echo(instance_id)} is not an instance id")
    return instance_id


def _failed_from_partitions(events: list[dict[str, Any]]) -> list[dict[str, str]]:
    failed: dict[str, dict[str, str]] = {}
    for event in events:
        result = event.get("Result")
        if event.get("EventType") == "SubOrchestrationInstanceCompleted" and isinstance(
            result, dict
        ):
            for entry in result.get("failed") or []:
                if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                    failed.setdefault(
                        entry["path"], {"path": entry["path"], "error": str(entry.get("error", ""))}
                    )
    return list(failed.values())


def start_options(job: dict[str, Any]) -> dict[str, Any]:
    """The starter's options that run a backup again as it ran (the page's "Start again")."""
    rules = job.get("rules") if isinstance(job.get("rules"), dict) else {}
    options: dict[str, Any] = {
        "path": job.get("root"),
        "container": job.get("container"),
        "prefix": job.get("prefix"),
        "compare": job.get("compare"),
    }
    for key in ("include", "exclude"):
        if rules.get(key):
            options[key] = list(rules[key])
    if rules.get("ignoreFile") is False:
        options["ignoreFile"] = False
    if job.get("dryRun") is True:
        options["dryRun"] = True
    return options


async def run_detail(reader: DurableReader, instance_id: str) -> dict[str, Any]:
    instance_id = _check_id(instance_id)
    status = await reader.status(instance_id, history=True)
    if status is None:
        raise BadRequest(404, f"there is no run {echo(instance_id)} (it may have been purged)")
    now = _now()
    row = runs.row(status, now)
    progress = status.get("customStatus") if isinstance(status.get("customStatus"), dict) else {}
    failed = list(progress.get("failed") or [])
    events = status.get("historyEvents") or []
    resume = runs.resumed(status)
    kind = runs.kind_of(status)
    generations = resume is not None and kind is not None and bool(kind.partition_orchestrator)
    if generations:
        # A run that continued as new: its partitions of every generation are instances.
        prefix = children.partition_prefix(instance_id, resume["runId"])
        try:
            partitions = await reader.window(prefix, None, None, (), show_input=False)
        except TooMany as many:
            partitions = many.partial
        events = timeline.with_partitions(
            events, partitions, runs.started_time(status), kind.partition_orchestrator
        )
    if (row["filesFailed"] or 0) > len(failed) and row["status"] not in runs.ACTIVE:
        # The custom status lists the first 20; each partition's summary lists its own first
        # 20, which only the history with outputs holds (read once the run has ended).
        if not generations:
            full = await reader.status(instance_id, history=True, outputs=True)
            partition_events = (full or {}).get("historyEvents") or []
        else:
            partition_events = events
        more = _failed_from_partitions(partition_events)
        seen = {entry.get("path") for entry in failed}
        failed.extend(entry for entry in more if entry["path"] not in seen)
    options = runs.decoded_input(status)
    output = status.get("output")
    return {
        "run": row,
        "progress": progress,
        "failed": failed,
        "skipped": list(progress.get("skipped") or []),
        "error": output if row["status"] in ("Failed", "Terminated") else None,
        "output": output if row["status"] == "Completed" else None,
        "options": start_options(options) if row["kind"] in ("backup", "dryrun") else None,
        "timeline": timeline.build(events, now, LABELS),
        "active": row["status"] in runs.ACTIVE,
    }


async def terminate(starter: str, instance_id: str, body: bytes) -> func.HttpResponse:
    instance_id = _check_id(instance_id)
    reason = "terminated from the console"
    if body and body.strip():
        try:
            value = json.loads(body)
        except ValueError:
            raise BadRequest(400, 'the body must be JSON: {"reason": "..."} or nothing') from None
        if not isinstance(value, dict) or not isinstance(value.get("reason", ""), str):
            raise BadRequest(400, "'reason' must be a string")
        reason = (value.get("reason") or reason)[:500]
    client = df.DurableOrchestrationClient(starter)
    try:
        status = await client.get_status(instance_id)
    except Exception:
        raise DurableUnavailable("the durable host did not answer; try again") from None
    runtime = getattr(getattr(status, "runtime_status", None), "value", None)
    if not status or runtime is None:
        raise BadRequest(404, f"there is no run {echo(instance_id)}")
    if runtime not in runs.ACTIVE:
        raise BadRequest(
            409, f"the run has already ended ({runtime}); there is nothing to terminate"
        )
    try:
        await client.terminate(instance_id, reason)
    except Exception as exc:
        log.warning("terminating %s failed: %s", instance_id, exc)
        raise DurableUnavailable(
            f"the durable host refused to terminate the run: {str(exc)[:200]}"
        ) from None
    # The extension does not pass a terminate on to sub-orchestrations: the run's partitions
    # would keep copying (and block the next run with a 409) unless they are stopped too.
    stopped = await _terminate_children(starter, client, instance_id, reason)
    return _json(
        202,
        {
            "id": instance_id,
            "partitionsTerminated": stopped,
            "message": "termination requested; the run stops within seconds",
        },
    )


async def _terminate_children(
    starter: str, client: df.DurableOrchestrationClient, instance_id: str, reason: str
) -> int:
    try:
        found = await earlier_runs.children_of(starter, instance_id)
    except earlier_runs.QueryFailed as exc:
        log.warning("listing the partitions of %s failed: %s", instance_id, exc)
        return 0
    stopped = 0
    for item in found:
        if item.get("runtimeStatus") not in earlier_runs.ACTIVE:
            continue
        try:
            await client.terminate(str(item.get("instanceId")), reason)
            stopped += 1
        except Exception as exc:  # it may have ended between the query and now
            log.warning("terminating %s failed: %s", item.get("instanceId"), exc)
    return stopped
