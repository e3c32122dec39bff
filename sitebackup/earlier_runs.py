"""Before a run starts: the sub-orchestrations earlier runs of the same instance id left.

Terminating a backup through the Durable HTTP API stops only the parent; its partitions go on
copying into the destination. A new run with the same instance id would copy beside them, so
the starter asks the host for the instances with the id prefix ``<instance id>:`` (one
query, through the local RPC endpoint the SDK's client uses, as the console does): while one
is still active the run is refused; the finished ones are purged, so every run of a
destination leaves only its own partitions in the task hub.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import aiohttp
import azure.durable_functions as df

from sitebackup import children
from sitebackup.console.durable import rpc_base_url

log = logging.getLogger(__name__)

ACTIVE = frozenset({"Running", "Pending", "Suspended", "ContinuedAsNew"})
PAGE_SIZE = 500
TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=10)


class QueryFailed(Exception):
    """The durable host did not answer the instance query."""


async def children_of(binding: str, instance_id: str) -> list[dict[str, Any]]:
    """Every instance whose id starts with ``<instance_id>:`` (all pages)."""
    base = rpc_base_url(binding)
    query = urlencode(
        {
            "instanceIdPrefix": children.prefix_of(instance_id),
            "showInput": "false",
            "top": str(PAGE_SIZE),
        }
    )
    found: list[dict[str, Any]] = []
    token = ""
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            while True:
                headers = {"x-ms-continuation-token": token} if token else {}
                async with session.get(f"{base}instances/?{query}", headers=headers) as answer:
                    body = await answer.json(content_type=None)
                    if answer.status != 200 or not isinstance(body, list):
                        raise QueryFailed(f"HTTP {answer.status} to the instance query")
                    token = answer.headers.get("x-ms-continuation-token") or ""
                found.extend(item for item in body if isinstance(item, dict))
                if not token or token == "null" or not body:
                    return found
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise QueryFailed(f"{type(exc).__name__}: {exc}") from exc


async def settle(
    binding: str, client: df.DurableOrchestrationClient, instance_id: str
) -> str | None:
    """The id of a sub-orchestration of an earlier run still active, or None once the finished
    ones are purged. Raises QueryFailed when the host cannot be asked."""
    found = await children_of(binding, instance_id)
    for item in found:
        if item.get("runtimeStatus") in ACTIVE:
            return str(item.get("instanceId"))
    for item in found:
        child = str(item.get("instanceId"))
        try:
            await client.purge_instance_history(child)
        except Exception as exc:  # a purge left undone only costs task hub space
            log.warning("could not purge %s (%s): %s", child, type(exc).__name__, exc)
    return None
