"""A stand-in for the Durable extension's RPC endpoint, recording what the client SDK asks.

It answers the calls the starter makes (``get_status``, the instance query by id prefix,
``purge_instance_history`` and ``start_new``) the way the extension does, so
``HttpStart.main`` runs with the real client SDK over real HTTP.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BASE = "http://localhost:7071/runtime/webhooks/durabletask"
HUB = "SiteBackupHub"
CREATE = BASE + "/orchestrators/{functionName}[/{instanceId}]"


@dataclass
class DurableStub:
    # instance id -> runtimeStatus the stub reports (absent: 404, as for an unknown instance)
    statuses: dict[str, str] = field(default_factory=dict)
    start_status: int = 202
    requests: list[tuple[str, str]] = field(default_factory=list)
    started: list[dict[str, Any]] = field(default_factory=list)
    purged: list[str] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    async def __aenter__(self) -> DurableStub:
        app = web.Application()
        app.router.add_get("/durabletask/instances/", self._list)
        app.router.add_get("/durabletask/instances/{id}", self._status)
        app.router.add_delete("/durabletask/instances/{id}", self._purge)
        app.router.add_post("/durabletask/orchestrators/{name}/{id}", self._start)
        app.router.add_post("/durabletask/orchestrators/{name}", self._start)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _status(self, request: web.Request) -> web.Response:
        instance_id = request.match_info["id"]
        self.requests.append(("GET", request.path))
        runtime = self.statuses.get(instance_id)
        if runtime is None:
            return web.Response(status=404)
        body = {
            "name": "E2_BackupSiteContent",
            "instanceId": instance_id,
            "runtimeStatus": runtime,
            "input": None,
            "customStatus": None,
            "output": None,
            "createdTime": "2024-01-01T00:00:00Z",
            "lastUpdatedTime": "2024-01-01T00:00:01Z",
        }
        return web.json_response(body, status=202 if runtime in ("Running", "Pending") else 200)

    async def _list(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", request.path_qs))
        prefix = request.query.get("instanceIdPrefix", "")
        found = [
            {"instanceId": instance_id, "runtimeStatus": runtime}
            for instance_id, runtime in self.statuses.items()
            if instance_id.startswith(prefix)
        ]
        return web.json_response(found)

    async def _purge(self, request: web.Request) -> web.Response:
        instance_id = request.match_info["id"]
        self.requests.append(("DELETE", request.path))
        if self.statuses.pop(instance_id, None) is None:
            return web.Response(status=404)
        self.purged.append(instance_id)
        return web.json_response({"instancesDeleted": 1})

    async def _start(self, request: web.Request) -> web.Response:
        self.requests.append(("POST", request.path))
        instance_id = request.match_info.get("id", "generated")
        text = await request.text()
        if self.start_status != 202:
            return web.json_response(
                {"Message": "Something went wrong while processing your request"},
                status=self.start_status,
            )
        # The SDK double-encodes the input: the body is a JSON string holding JSON text.
        self.started.append(
            {
                "name": request.match_info["name"],
                "instance_id": instance_id,
                "input": json.loads(json.loads(text)) if text else None,
            }
        )
        self.statuses[instance_id] = "Pending"
        return web.json_response(management_urls(instance_id), status=202)

    def binding(self, rpc_port: int | None = None) -> str:
        """The durableClient binding JSON the host hands to the starter."""
        port = self.port if rpc_port is None else rpc_port
        return json.dumps(
            {
                "taskHubName": HUB,
                "connectionName": None,
                "creationUrls": {
                    "createNewInstancePostUri": f"{CREATE}?",
                    "createAndWaitOnNewInstancePostUri": (
                        f"{CREATE}?timeout={{timeoutInSeconds}}"
                        "&pollingInterval={intervalInSeconds}&"
                    ),
                },
                "managementUrls": management_urls("INSTANCEID"),
                "baseUrl": BASE,
                "requiredQueryStringParameters": "",
                "rpcBaseUrl": f"http://127.0.0.1:{port}/durabletask/",
                "httpBaseUrl": None,
            }
        )


def management_urls(instance_id: str) -> dict[str, str]:
    query = f"taskHub={HUB}&connection=Storage"
    instance = f"{BASE}/instances/{instance_id}"
    return {
        "id": instance_id,
        "statusQueryGetUri": f"{instance}?{query}",
        "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{query}",
        "terminatePostUri": f"{instance}/terminate?reason={{text}}&{query}",
        "rewindPostUri": f"{instance}/rewind?reason={{text}}&{query}",
        "purgeHistoryDeleteUri": f"{instance}?{query}",
        "restartPostUri": f"{instance}/restart?{query}",
        "suspendPostUri": f"{instance}/suspend?reason={{text}}&{query}",
        "resumePostUri": f"{instance}/resume?reason={{text}}&{query}",
    }
