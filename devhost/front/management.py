"""The Durable webhook API: the public ``/runtime/webhooks/durabletask/`` routes and the RPC
endpoint the SDK client calls share this handler, as in the extension's ``HttpApiHandler``.

Status codes, headers and bodies follow protocol §5 (shapes in ``responses``, query-string
leniency in ``queries``); every body is JSON because the SDK parses each answer as JSON.

Longer than most modules (about 450 lines): one handler method per API operation, in one
class as the extension has it, so the route table and the operations read together.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from aiohttp import web

from devhost.contracts import (
    HostError,
    InstanceGone,
    InstanceInfo,
    InstanceNotFound,
    InstanceQuery,
    InvalidContinuationToken,
    InvalidOperation,
    RuntimeStatus,
    TaskHubProtocol,
)
from devhost.front.bodies import BodyTooLarge, read_text
from devhost.front.queries import (
    query_bool,
    query_datetime,
    query_int,
    query_seconds,
    query_statuses,
    query_value,
)
from devhost.front.responses import (
    BAD_ARGUMENTS,
    SOMETHING_WRONG,
    ApiArgumentError,
    dumps,
    empty_response,
    error_response,
    host_error_response,
    json_response,
)
from devhost.front.status import history_events, parse_json_or_raw, status_payload

log = logging.getLogger("devhost.front.management")

WEBHOOK_PATH = "/runtime/webhooks/durabletask"
RPC_PATH = "/durabletask"
MAX_INSTANCE_ID_LENGTH = 256
# The extension reads `top` as a .NET Int32.
MAX_TOP = 2**31 - 1
ENTITIES_NOT_SUPPORTED = (
    "Entities are not supported by this host: run apps that use durable entities on the "
    "Azure Functions host (func start)"
)
REWIND_NOT_SUPPORTED = "Rewind is not supported by this host."


class OrchestratorCatalog(Protocol):
    """What the API needs from the app: which orchestrators exist."""

    @property
    def orchestrator_names(self) -> frozenset[str]: ...

    def resolve_name(self, name: str) -> str | None: ...


# ---------------------------------------------------------------------------------------
# The handler
# ---------------------------------------------------------------------------------------


def validate_instance_id(instance_id: str) -> None:
    if instance_id.startswith("@"):
        raise ApiArgumentError("Orchestration instance ids must not start with @.")
    if any(c in "/\\?#" or ord(c) < 32 or 127 <= ord(c) < 160 for c in instance_id):
        raise ApiArgumentError(
            "Orchestration instance ids must not contain /, \\, #, ?, or control characters."
        )
    if len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        raise ApiArgumentError(
            f"Instance ID lengths must not exceed {MAX_INSTANCE_ID_LENGTH} characters."
        )


def unknown_function_message(name: str, kind: str, known: frozenset[str]) -> str:
    message = (
        f"The function '{name}' doesn't exist, is disabled, or is not an {kind} function. "
        "Additional info: "
    )
    if known:
        listed = ", ".join(f"'{n}'" for n in sorted(known, key=str.lower))
        return message + f"The following are the known {kind} functions: {listed}."
    return message + f"No {kind} functions are currently registered!"


def _encode_id(instance_id: str) -> str:
    # WebUtility.UrlEncode: spaces as '+', the unreserved set and !*() kept.
    return urllib.parse.quote_plus(instance_id, safe="!*()")


@dataclass
class ManagementApi:
    """Serves start / status / query / events / terminate / suspend / resume / purge /
    restart / rewind for one task hub."""

    hub: TaskHubProtocol
    app: OrchestratorCatalog
    connection_name: str = "Storage"
    poll_interval: float = 0.5  # cap for one wait_for_change when a caller waits

    # ---- links ---------------------------------------------------------------------

    def check_status_links(self, request: web.Request, instance_id: str) -> dict[str, str]:
        """``CreateCheckStatusResponse`` body: URLs on the request's own authority."""
        base = f"{request.scheme}://{request.host}{WEBHOOK_PATH}/instances/"
        prefix = base + _encode_id(instance_id)
        hub = urllib.parse.quote_plus(self.hub.hub_name)
        connection = urllib.parse.quote_plus(self.connection_name)
        suffix = f"taskHub={hub}&connection={connection}"
        return {
            "id": instance_id,
            "statusQueryGetUri": f"{prefix}?{suffix}",
            "sendEventPostUri": f"{prefix}/raiseEvent/{{eventName}}?{suffix}",
            "terminatePostUri": f"{prefix}/terminate?reason={{text}}&{suffix}",
            "purgeHistoryDeleteUri": f"{prefix}?{suffix}",
            "restartPostUri": f"{prefix}/restart?{suffix}",
            "suspendPostUri": f"{prefix}/suspend?reason={{text}}&{suffix}",
            "resumePostUri": f"{prefix}/resume?reason={{text}}&{suffix}",
        }

    def check_status_response(self, request: web.Request, instance_id: str) -> web.Response:
        links = self.check_status_links(request, instance_id)
        return json_response(
            202, links, {"Location": links["statusQueryGetUri"], "Retry-After": "10"}
        )

    # ---- dispatch ------------------------------------------------------------------

    async def handle(self, request: web.Request, tail: str) -> web.StreamResponse:
        """Answer one request; ``tail`` is the decoded path after the base path."""
        try:
            hub_error = self._check_task_hub(request)
            if hub_error is not None:
                return hub_error
            return await self._route(request, [s for s in tail.strip("/").split("/")])
        except HostError as error:
            return host_error_response(error)
        except BodyTooLarge as error:
            return error.response
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the SDK needs a JSON answer, always
            log.exception("Durable API request %s %s failed", request.method, request.path)
            return error_response(500, SOMETHING_WRONG, str(error), type(error).__name__)

    def _check_task_hub(self, request: web.Request) -> web.Response | None:
        wanted = query_value(request.query, "taskHub")
        if wanted and wanted.strip() and wanted.strip().lower() != self.hub.hub_name.lower():
            return error_response(
                400,
                BAD_ARGUMENTS,
                f"This host serves the task hub '{self.hub.hub_name}' only, not '{wanted}'.",
                "System.ArgumentException",
            )
        return None

    async def _route(self, request: web.Request, parts: list[str]) -> web.StreamResponse:
        method = request.method.upper()
        head = parts[0].lower() if parts else ""
        if head == "orchestrators" and len(parts) in (2, 3) and parts[1]:
            if method != "POST":
                return empty_response(404)
            instance_id = parts[2] if len(parts) == 3 else ""
            return await self.start(request, parts[1], instance_id)
        if head == "entities" and len(parts) <= 3:
            return error_response(
                501, ENTITIES_NOT_SUPPORTED, ENTITIES_NOT_SUPPORTED, "System.NotSupportedException"
            )
        if head == "instances" and len(parts) <= 3:
            instance_id = parts[1] if len(parts) > 1 and parts[1] else None
            operation = parts[2] if len(parts) > 2 and parts[2] else None
            if instance_id is None:
                if method == "GET":
                    return await self.query(request)
                if method == "DELETE":
                    return await self.purge_many(request)
                return empty_response(404)
            if operation is None:
                if method == "GET":
                    return await self.status(request, instance_id)
                if method == "DELETE":
                    return await self.purge(instance_id)
                return empty_response(404)
            if method == "POST":
                handler = {
                    "terminate": self.terminate,
                    "suspend": self.suspend,
                    "resume": self.resume,
                    "rewind": self.rewind,
                    "restart": self.restart,
                }.get(operation.lower())
                if handler is not None:
                    return await handler(request, instance_id)
            return empty_response(404)
        if (
            head == "instances"
            and len(parts) == 4
            and parts[2].lower() == "raiseevent"
            and parts[1]
            and parts[3]
        ):
            if method != "POST":
                return empty_response(404)
            return await self.raise_event(request, parts[1], parts[3])
        return empty_response(404)

    # ---- start / restart -----------------------------------------------------------

    async def start(
        self, request: web.Request, function_name: str, instance_id: str
    ) -> web.StreamResponse:
        if self.app.resolve_name(function_name) not in self.app.orchestrator_names:
            raise ApiArgumentError(
                unknown_function_message(function_name, "orchestrator", self.app.orchestrator_names)
            )
        if instance_id:
            validate_instance_id(instance_id)
        else:
            instance_id = uuid.uuid4().hex
        body = await read_text(request)
        input_json: str | None = None
        if body.strip():
            try:
                input_json = dumps(json.loads(body))
            except (ValueError, RecursionError) as error:  # Json.NET stops at depth 64
                return error_response(
                    400, "Invalid JSON content", str(error), "Newtonsoft.Json.JsonReaderException"
                )
        await self.hub.start_instance(function_name, instance_id, input_json)
        log.debug("Start request for '%s' (instance %s)", function_name, instance_id)
        return await self._answer_after_start(request, instance_id)

    async def restart(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        info = await self.hub.get_instance(instance_id)
        if info is None:
            return error_response(
                400,
                "InstanceId does not match a valid orchestration instance.",
                f"An orchestration with the instanceId {instance_id} was not found.",
                "System.ArgumentException",
            )
        new_id = (
            uuid.uuid4().hex
            if query_bool(request.query, "restartWithNewInstanceId", True)
            else instance_id
        )
        value = parse_json_or_raw(info.input)
        await self.hub.start_instance(info.name, new_id, None if value is None else dumps(value))
        log.info("Restarted orchestration '%s' %s as %s", info.name, instance_id, new_id)
        return await self._answer_after_start(request, new_id)

    async def _answer_after_start(
        self, request: web.Request, instance_id: str
    ) -> web.StreamResponse:
        timeout = query_seconds(request.query, "timeout")
        interval = query_seconds(request.query, "pollingInterval")
        if timeout is None or interval is None:
            return self.check_status_response(request, instance_id)
        if interval > timeout:
            raise ApiArgumentError(
                f"Total timeout {timeout:g} should be bigger than retry timeout {interval:g}"
            )
        info = await self._wait_until_terminal(instance_id, timeout)
        if info is not None and info.runtime_status is RuntimeStatus.COMPLETED:
            return json_response(200, parse_json_or_raw(info.output))
        if info is not None and info.runtime_status.is_terminal:
            return await self.status(request, instance_id)
        return self.check_status_response(request, instance_id)

    async def _wait_until_terminal(self, instance_id: str, timeout: float) -> InstanceInfo | None:
        deadline = time.monotonic() + timeout
        info = await self.hub.get_instance(instance_id)
        while info is None or not info.runtime_status.is_terminal:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            changed = await self.hub.wait_for_change(
                instance_id, min(remaining, max(self.poll_interval, 0.01))
            )
            info = changed if changed is not None else await self.hub.get_instance(instance_id)
        return info

    # ---- status / query ------------------------------------------------------------

    async def status(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        query = request.query
        show_history = query_bool(query, "showHistory", False)
        show_history_output = query_bool(query, "showHistoryOutput", False)
        show_input = query_bool(query, "showInput", True)
        fail_500 = query_bool(query, "returnInternalServerErrorOnFailure", False)
        info = await self.hub.get_instance(instance_id)
        if info is None:
            return empty_response(404)
        events: list[dict] | None = None
        if show_history and info.runtime_status is not RuntimeStatus.PENDING:
            events = history_events(
                await self.hub.get_history(instance_id), show_history_output, show_input
            )
        payload = status_payload(info, show_input, events)
        status = info.runtime_status
        if status in (
            RuntimeStatus.RUNNING,
            RuntimeStatus.PENDING,
            RuntimeStatus.CONTINUED_AS_NEW,
            RuntimeStatus.SUSPENDED,
        ):
            return json_response(202, payload, {"Location": str(request.url), "Retry-After": "5"})
        if status is RuntimeStatus.FAILED and fail_500:
            return json_response(500, payload)
        return json_response(200, payload)

    async def query(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        top = query_int(query, "top")
        if top is not None and top > MAX_TOP:
            # .NET's int.TryParse fails beyond Int32; a clear 400 beats a page of anything.
            raise ApiArgumentError(f"top must be at most {MAX_TOP} instances per page, got {top}")
        token = request.headers.get("x-ms-continuation-token") or None
        condition = InstanceQuery(
            created_from=query_datetime(query, "createdTimeFrom"),
            created_to=query_datetime(query, "createdTimeTo"),
            statuses=query_statuses(query, "runtimeStatus"),
            instance_id_prefix=query_value(query, "instanceIdPrefix"),
            top=top if top is not None and top > 0 else 100,
            continuation_token=token,
        )
        show_input = query_bool(query, "showInput", True)
        try:
            page = await self.hub.query_instances(condition)
        except InvalidContinuationToken:
            raise ApiArgumentError(
                "the x-ms-continuation-token header does not hold a continuation token this "
                "host returned; send the header of the previous page's answer, or none for "
                "the first page"
            ) from None
        body = [status_payload(info, show_input) for info in page.instances]
        return json_response(200, body, {"x-ms-continuation-token": page.continuation_token or ""})

    # ---- purge ---------------------------------------------------------------------

    async def purge(self, instance_id: str) -> web.StreamResponse:
        if not instance_id:
            return error_response(
                400,
                "Instance ID provided to the purge instance history request must not be null "
                "or empty.",
            )
        info = await self.hub.get_instance(instance_id)
        if info is None:
            return empty_response(404)
        if not info.runtime_status.is_terminal:
            return json_response(
                412,
                "Only orchestrations in a terminal state can be purged, but the orchestration "
                f"with instance ID {instance_id} has status {info.runtime_status.value}",
            )
        deleted = await self.hub.purge(instance_id)
        return json_response(200, {"instancesDeleted": deleted})

    async def purge_many(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        created_from = query_datetime(query, "createdTimeFrom")
        if created_from is None:
            return json_response(400, "Please provide value for 'createdTimeFrom' parameter.")
        created_to = query_datetime(query, "createdTimeTo") or datetime.now(UTC)
        condition = InstanceQuery(
            created_from=created_from,
            created_to=created_to,
            statuses=query_statuses(query, "runtimeStatus"),
        )
        deleted = await self.hub.purge_many(condition)
        if deleted == 0:
            return empty_response(404)
        return json_response(200, {"instancesDeleted": deleted})

    # ---- instance operations -------------------------------------------------------

    async def _existing_running(self, instance_id: str) -> InstanceInfo:
        """The instance, or InstanceNotFound (404) / InstanceGone (410 when terminal)."""
        info = await self.hub.get_instance(instance_id)
        if info is None:
            raise InstanceNotFound(instance_id)
        if info.runtime_status.is_terminal:
            raise InstanceGone(instance_id)
        return info

    async def terminate(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        info = await self._existing_running(instance_id)
        reason = query_value(request.query, "reason")
        await self.hub.terminate(instance_id, reason)
        log.info("Terminating orchestration '%s' (instance %s)", info.name, instance_id)
        return empty_response(202)

    async def suspend(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        await self._existing_running(instance_id)
        await self.hub.suspend(instance_id, query_value(request.query, "reason"))
        return empty_response(202)

    async def resume(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        await self._existing_running(instance_id)
        await self.hub.resume(instance_id, query_value(request.query, "reason"))
        return empty_response(202)

    async def rewind(self, request: web.Request, instance_id: str) -> web.StreamResponse:
        info = await self.hub.get_instance(instance_id)
        if info is None:
            return empty_response(404)
        if info.runtime_status in (
            RuntimeStatus.COMPLETED,
            RuntimeStatus.TERMINATED,
            RuntimeStatus.CANCELED,
        ):
            return empty_response(410)
        if info.runtime_status is not RuntimeStatus.FAILED:
            raise InvalidOperation(
                "The rewind operation is only supported on failed orchestration instances."
            )
        return error_response(
            501, REWIND_NOT_SUPPORTED, REWIND_NOT_SUPPORTED, "System.NotImplementedException"
        )

    async def raise_event(
        self, request: web.Request, instance_id: str, event_name: str
    ) -> web.StreamResponse:
        await self._existing_running(instance_id)
        if request.content_type.lower() != "application/json":
            return error_response(400, "Only application/json request content is supported")
        body = await read_text(request)
        try:
            value = json.loads(body)
        except (ValueError, RecursionError) as error:  # Json.NET stops at depth 64
            return error_response(
                400, "Invalid JSON content", str(error), "Newtonsoft.Json.JsonReaderException"
            )
        await self.hub.raise_event(instance_id, event_name, dumps(value))
        return empty_response(202)
