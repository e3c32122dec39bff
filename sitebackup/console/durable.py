"""The durable host as the console reads it: statuses, history, newest-first lists.

It calls the local RPC endpoint named by the durable client binding (``rpcBaseUrl``), the
same endpoint and API the SDK's client uses, for what the SDK does not expose: listing with
``top`` and the continuation token, and the history without the big outputs. Nothing here
needs the extension's system key, which in Azure only the webhook URLs carry.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from sitebackup.console.paging import WINDOW_CAP, TooMany
from sitebackup.errors import BackupError

PAGE_SIZE = 500
TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=10)


class DurableUnavailable(BackupError):
    """The durable host did not answer, or answered something unexpected (HTTP 502/503)."""


def rpc_base_url(binding: str) -> str:
    """The RPC base URL from the durable client binding's JSON."""
    try:
        value = json.loads(binding).get("rpcBaseUrl")
    except (ValueError, AttributeError):
        value = None
    if not isinstance(value, str) or not value:
        raise DurableUnavailable(
            "the durable client binding has no local RPC endpoint (rpcBaseUrl); do not set "
            "extensions.durableTask.localRpcEndpointEnabled to false in host.json"
        )
    return value if value.endswith("/") else value + "/"


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DurableReader:
    def __init__(self, binding: str, session: aiohttp.ClientSession):
        self.base = rpc_base_url(binding)
        self.session = session

    async def _get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
        try:
            async with self.session.get(self.base + path, headers=headers or {}) as answer:
                text = await answer.text()
                body = json.loads(text) if text.strip() else None
                return answer.status, body, answer.headers
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise DurableUnavailable(
                f"the durable host did not answer ({type(exc).__name__}); try again"
            ) from None

    async def status(
        self, instance_id: str, history: bool = False, outputs: bool = False
    ) -> dict[str, Any] | None:
        """The instance's status (with its input), or None when there is no such instance."""
        query = {"showInput": "true"}
        if history:
            query["showHistory"] = "true"
        if outputs:
            query["showHistoryOutput"] = "true"
        code, body, _ = await self._get(
            f"instances/{quote(instance_id, safe='')}?{urlencode(query)}"
        )
        if code == 404:
            return None
        if code not in (200, 202) or not isinstance(body, dict):
            raise DurableUnavailable(f"the durable host answered HTTP {code} for {instance_id}")
        return body

    async def window(
        self,
        prefix: str,
        low: datetime | None,
        high: datetime | None,
        statuses: Sequence[str],
        show_input: bool = True,
    ) -> list[dict[str, Any]]:
        """Every instance with the id prefix created in [low, high] (either end open when
        None); TooMany past the cap."""
        query = {"instanceIdPrefix": prefix, "top": str(PAGE_SIZE)}
        if low is not None:
            query["createdTimeFrom"] = _stamp(low)
        if high is not None:
            query["createdTimeTo"] = _stamp(high)
        if show_input:
            query["showInput"] = "true"
        if statuses:
            query["runtimeStatus"] = ",".join(statuses)
        found: list[dict[str, Any]] = []
        token = ""
        while True:
            headers = {"x-ms-continuation-token": token} if token else {}
            code, body, answer_headers = await self._get(f"instances/?{urlencode(query)}", headers)
            if code != 200 or not isinstance(body, list):
                raise DurableUnavailable(f"the durable host answered HTTP {code} to a list query")
            found.extend(item for item in body if isinstance(item, dict))
            token = answer_headers.get("x-ms-continuation-token") or ""
            if not token or token == "null":
                return found
            if len(found) >= WINDOW_CAP:
                raise TooMany(found)
