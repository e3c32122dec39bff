"""The HTTP front: HTTP-triggered functions, the public Durable webhook API and the local RPC
listener the SDK client calls (protocol §5.1).

Two listeners, as under the real host: the public one (default ``127.0.0.1:7071``) serves
``/{routePrefix}/{route}`` and ``/runtime/webhooks/durabletask/``; the RPC one (default
``127.0.0.1:17071``, a free port when that one is busy) serves ``/durabletask/``.
"""

from __future__ import annotations

import errno
import json
import logging
import re
import socket
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web
from multidict import MultiMapping

from devhost.contracts import TaskHubProtocol
from devhost.front.bodies import MAX_DURABLE_BODY
from devhost.front.management import RPC_PATH, WEBHOOK_PATH, ManagementApi, dumps
from devhost.functions.app import FunctionApp
from devhost.functions.bindings import FunctionKind
from devhost.functions.routes import RouteEntry, RouteTable
from devhost.functions.worker import HttpInvocation

log = logging.getLogger("devhost.front.http")

MAX_TRIGGER_BODY = 100 * 1024 * 1024  # the Functions host's default request size limit
# The RPC listener carries the durable client's calls, whose bodies are durable inputs: the
# same limit as the extension's messages (bodies.MAX_DURABLE_BODY), with room for the
# envelope. The extension's own listener sets none; a host that keeps everything in memory
# and in its store must.
MAX_RPC_BODY = MAX_DURABLE_BODY + 64 * 1024
_HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
# A 404 message quotes at most this much of the request path, so it stays small.
MAX_SHOWN_PATH = 200


class PortInUse(OSError):
    """The public port is taken (the RPC port falls back to a free one instead)."""


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(512)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def public_host(host: str) -> str:
    """The host name to put in URLs for a bind address."""
    if host in ("0.0.0.0", "", "::"):
        return "localhost"
    return f"[{host}]" if ":" in host else host


def client_binding(base_url: str, rpc_base_url: str | None, hub: str, connection: str) -> str:
    """The durableClient binding value (protocol §4.1), with no system key locally."""
    webhook = base_url.rstrip("/") + WEBHOOK_PATH
    instance = f"{webhook}/instances/INSTANCEID"
    suffix = f"taskHub={hub}&connection={connection}"
    create = f"{webhook}/orchestrators/{{functionName}}[/{{instanceId}}]"
    value = {
        "taskHubName": hub,
        "connectionName": None,
        "creationUrls": {
            "createNewInstancePostUri": create + "?",
            "createAndWaitOnNewInstancePostUri": create
            + "?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&",
        },
        "managementUrls": {
            "id": "INSTANCEID",
            "statusQueryGetUri": f"{instance}?{suffix}",
            "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}?{suffix}",
            "terminatePostUri": f"{instance}/terminate?reason={{text}}&{suffix}",
            "rewindPostUri": f"{instance}/rewind?reason={{text}}&{suffix}",
            "purgeHistoryDeleteUri": f"{instance}?{suffix}",
            "restartPostUri": f"{instance}/restart?{suffix}",
            "suspendPostUri": f"{instance}/suspend?reason={{text}}&{suffix}",
            "resumePostUri": f"{instance}/resume?reason={{text}}&{suffix}",
        },
        "baseUrl": webhook,
        "requiredQueryStringParameters": "",
        "rpcBaseUrl": rpc_base_url,
        "httpBaseUrl": None,
    }
    return dumps(value)


def _joined(values: MultiMapping[str], separator: str) -> dict[str, str]:
    joined: dict[str, str] = {}
    for key in values:
        if key not in joined:
            joined[key] = separator.join(values.getall(key))
    return joined


def routing_path(raw_path: str) -> str:
    """The request path as ASP.NET routing sees it: decoded, except that an encoded slash
    (``%2F``) stays inside its segment instead of splitting it."""
    path = raw_path.split("?", 1)[0]
    segments = (
        urllib.parse.unquote(re.sub("%2[fF]", "%252F", segment)) for segment in path.split("/")
    )
    return "/".join(segments).strip("/")


def build_routes(app: FunctionApp) -> RouteTable[str]:
    table: RouteTable[str] = RouteTable()
    for function in app.http_functions:
        if function.route is not None:
            table.add(RouteEntry(function.route, function.spec.methods, function.name))
    return table


@dataclass
class HostServer:
    """Both listeners; ``start()`` binds them and fixes the URLs."""

    app: FunctionApp
    hub: TaskHubProtocol
    host: str = "127.0.0.1"
    port: int = 7071
    rpc_port: int | None = 17071  # None: local RPC endpoint disabled (localRpcEndpointEnabled)
    url: str = ""
    rpc_base_url: str | None = None
    client_json: str = ""
    # Runs a timer function at once (the admin API); set when the host has timers.
    run_timer: Callable[[str], bool] | None = None
    api: ManagementApi = field(init=False)
    _routes: RouteTable[str] = field(init=False)
    _runners: list[web.AppRunner] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.api = ManagementApi(self.hub, self.app, self.app.config.connection_name)
        self._routes = build_routes(self.app)

    # ---- life cycle ----------------------------------------------------------------

    async def start(self) -> None:
        try:
            public_sock = bind_socket(self.host, self.port)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(
                    error.errno,
                    f"port {self.port} on {self.host} is already in use: stop the other "
                    "host or pick another port with --port",
                ) from None
            raise
        port = public_sock.getsockname()[1]
        self.url = f"http://{public_host(self.host)}:{port}"
        await self._serve(self._public_app(), public_sock)
        if self.rpc_port is not None:
            rpc_sock = self._bind_rpc(self.rpc_port)
            rpc_port = rpc_sock.getsockname()[1]
            self.rpc_base_url = f"http://127.0.0.1:{rpc_port}{RPC_PATH}/"
            await self._serve(self._rpc_app(), rpc_sock)
            log.info("Opened local http RPC endpoint: %s", self.rpc_base_url)
        self.client_json = client_binding(
            self.url, self.rpc_base_url, self.hub.hub_name, self.app.config.connection_name
        )

    def _bind_rpc(self, port: int) -> socket.socket:
        try:
            return bind_socket("127.0.0.1", port)
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
        sock = bind_socket("127.0.0.1", 0)
        log.warning(
            "Local RPC port %d is in use; using port %d instead", port, sock.getsockname()[1]
        )
        return sock

    async def _serve(self, application: web.Application, sock: socket.socket) -> None:
        runner = web.AppRunner(
            application, access_log=None, handle_signals=False, shutdown_timeout=5.0
        )
        await runner.setup()
        self._runners.append(runner)
        await web.SockSite(runner, sock).start()

    async def stop_accepting(self) -> None:
        """Close the listening sockets; requests in progress may finish."""
        for runner in self._runners:
            for site in list(runner.sites):
                await site.stop()

    async def close(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    # ---- applications --------------------------------------------------------------

    def _public_app(self) -> web.Application:
        application = web.Application(client_max_size=MAX_TRIGGER_BODY)
        application.router.add_route("*", WEBHOOK_PATH + "{tail:(/.*)?}", self._management)
        application.router.add_route("POST", "/admin/functions/{name}", self._admin_invoke)
        application.router.add_route("*", "/{tail:.*}", self._trigger)
        return application

    def _rpc_app(self) -> web.Application:
        application = web.Application(client_max_size=MAX_RPC_BODY)
        application.router.add_route("*", RPC_PATH + "{tail:(/.*)?}", self._management)
        # The check-status URLs the API builds point at the webhook path on the caller's
        # authority; answering them here too keeps them usable on this port.
        application.router.add_route("*", WEBHOOK_PATH + "{tail:(/.*)?}", self._management)
        return application

    async def _admin_invoke(self, request: web.Request) -> web.StreamResponse:
        """``POST /admin/functions/{name}``: run a non-HTTP function now, as ``func start``
        does (the Functions host's ``AdminController.Invoke``: a JSON body ``{"input": ...}``,
        202 once the run is under way, 404 for an unknown function). Timer functions only."""
        name = request.match_info["name"]
        try:
            body = json.loads(await request.read() or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return web.json_response(
                {"error": 'the body must be a JSON object such as {"input": ""}'}, status=400
            )
        resolved = self.app.resolve_name(name)
        if resolved is None:
            return web.Response(status=404)
        if self.run_timer is None or not self.run_timer(resolved):
            return web.json_response(
                {
                    "error": f"'{resolved}' is not a timer function that loaded: this host runs "
                    "only timer functions through the admin API"
                },
                status=400,
            )
        return web.Response(status=202)

    async def _management(self, request: web.Request) -> web.StreamResponse:
        return await self.api.handle(request, request.match_info.get("tail", ""))

    async def _trigger(self, request: web.Request) -> web.StreamResponse:
        prefix = self.app.config.route_prefix
        path = routing_path(request.raw_path)
        if prefix:
            head, _, rest = path.partition("/")
            if head.lower() != prefix.lower():
                return self._not_found(request)
            path = rest
        found = self._routes.match(request.method, path)
        if found is None:
            return self._not_found(request, self._methods_for(path))
        invocation = HttpInvocation(
            method=request.method,
            url=str(request.url),
            headers=_joined(request.headers, ", "),
            params=_joined(request.query, ","),
            route_params=found.values,
            body=await request.read(),
            trace_parent=request.headers.get("traceparent", ""),
        )
        result = await self.app.invoke_http(found.target, invocation, self.client_json)
        headers: list[tuple[str, str]] = [
            (k, v) for k, v in result.headers if k.lower() not in _HOP_HEADERS
        ]
        response = web.Response(status=result.status, body=result.body)
        for name, value in headers:
            response.headers.add(name, value)
        return response

    def _methods_for(self, path: str) -> list[str]:
        """The methods some function accepts on ``path`` (empty: no route matches it)."""
        methods: set[str] = set()
        for entry in self._routes.entries:
            if entry.methods is not None and entry.route.match(path) is not None:
                methods |= entry.methods
        return sorted(methods)

    @staticmethod
    def _not_found(request: web.Request, accepted: list[str] | None = None) -> web.Response:
        """404 as the Functions host answers, with a JSON message saying what did not match."""
        shown = (
            request.path
            if len(request.path) <= MAX_SHOWN_PATH
            else request.path[:MAX_SHOWN_PATH] + "…"
        )
        message = f"No function answers {request.method} {shown}"
        if accepted:
            message += f"; it accepts {', '.join(accepted)}"
        return web.json_response({"error": message}, status=404)

    # ---- what the startup log shows ------------------------------------------------

    def function_lines(self) -> list[str]:
        """``func start``'s list: ``Name: [GET,POST] url`` or ``Name: activityTrigger``."""
        lines: list[str] = []
        prefix = self.app.config.route_prefix
        for name, function in sorted(self.app.functions.items(), key=lambda i: i[0].lower()):
            spec = function.spec
            if function.kind is FunctionKind.HTTP:
                methods = spec.methods
                shown = f"[{','.join(sorted(methods))}] " if methods else ""
                path = "/".join(p for p in (prefix, spec.route) if p)
                line = f"{name}: {shown}{self.url}/{path}"
            else:
                line = f"{name}: {spec.trigger.type}"
                if function.kind is FunctionKind.ENTITY:
                    line += " (entities are not supported by this host)"
            if function.error:
                line += f" (error: {function.error})"
            lines.append(line)
        return lines


def describe_functions(lines: list[str], extra: Mapping[str, str]) -> str:
    text = "\nFunctions:\n\n" + "\n\n".join(f"        {line}" for line in lines)
    if extra:
        text += "\n\nFunctions not loaded:\n\n" + "\n".join(
            f"        {name}: {reason}" for name, reason in extra.items()
        )
    return text + "\n"
