"""The backup app's HTTP API, as the client calls it (``requests``).

Every failure becomes a ``ClientError`` whose message is the server's own words (or, with no
words, the status line and a hint), never a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from backup_client import urls
from backup_client.errors import (
    AlreadyRunning,
    ApiError,
    HostUnreachable,
    InstanceNotFound,
)
from backup_client.progress import Snapshot
from sitebackup import children

log = logging.getLogger(__name__)

USER_AGENT = "site-backup"
# (connect, read) seconds: a host that accepts but never answers must not hang the client.
DEFAULT_TIMEOUT = (5.0, 60.0)
_MESSAGE_LIMIT = 2000
ACTIVE_STATUSES = "Running,Pending,Suspended,ContinuedAsNew"


def _decode(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", errors="replace")


def error_message(status: int, reason: str, body: Any, what: str = "") -> str:
    """The server's message for an error answer, from whatever shape its body has.

    Shapes seen: the app's ``{"error": ...}``, Durable's ``{"Message", "ExceptionMessage"}``,
    a JSON string, plain text, an empty body (then the status line and a hint).
    """
    message = None
    if isinstance(body, Mapping):
        for key in ("error", "message", "ExceptionMessage", "Message", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                message = value.strip()
                break
            if isinstance(value, Mapping) and isinstance(value.get("message"), str):
                message = value["message"].strip()  # {"error": {"code", "message"}} (Azure)
                break
        if message is None:
            message = json.dumps(body)
    elif isinstance(body, str) and body.strip():
        text = body.strip()
        message = None if text.lstrip().startswith("<") else " ".join(text.split())
    if message is None:
        message = f"HTTP {status} {reason}".strip()
        hint = _STATUS_HINTS.get(status)
        if hint:
            message += f": {hint}"
    if len(message) > _MESSAGE_LIMIT:
        message = message[: _MESSAGE_LIMIT - 3] + "..."
    return f"{what}: {message}" if what else message


_STATUS_HINTS = {
    401: "the host wants a key; pass it with --code (management endpoints in Azure need the "
    "durabletask system key)",
    403: "the key was refused; check --code",
    404: "nothing at this URL; check --url",
    502: "a gateway in front of the app did not get an answer",
    503: "the app is starting or overloaded; try again shortly",
}


def find_status_url(body: Any) -> str | None:
    """A ``statusQueryGetUri`` anywhere in a (409) answer body."""
    if isinstance(body, Mapping):
        value = body.get("statusQueryGetUri")
        if isinstance(value, str):
            return value
        for item in body.values():
            found = find_status_url(item)
            if found:
                return found
    elif isinstance(body, list):
        for item in body:
            found = find_status_url(item)
            if found:
                return found
    return None


@dataclass(frozen=True)
class StartedBackup:
    """The 202 answer of the starter."""

    instance_id: str
    status_url: str
    terminate_template: str | None
    retry_after: str | None
    body: Mapping[str, Any]


@dataclass(frozen=True)
class StatusAnswer:
    http_status: int
    snapshot: Snapshot
    retry_after: str | None
    body: Mapping[str, Any]


class BackupApi:
    """Calls to one host (``base_url``), with an optional function key."""

    def __init__(
        self,
        base_url: str,
        code: str | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = urls.normalize_base(base_url)
        self.code = code or None
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", USER_AGENT)
        self.timeout = timeout

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> BackupApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- plumbing ------------------------------------------------------------------------

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        log.debug("%s %s", method, urls.redact(url))
        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.exceptions.ConnectionError as error:
            raise HostUnreachable(self.unreachable_message(url, error)) from None
        except requests.exceptions.Timeout:
            raise HostUnreachable(
                f"the host at {self.base_url} did not answer within {self.timeout[1]:.0f} s"
            ) from None
        except requests.exceptions.RequestException as error:
            raise HostUnreachable(f"request to {urls.redact(url)} failed: {error}") from None

    def unreachable_message(self, url: str, error: Exception | None = None) -> str:
        text = f"no host answers at {self.base_url}"
        if urls.is_loopback(self.base_url):
            text += (
                f"; start it with 'python -m devhost --port {urls.port_of(self.base_url)}' in "
                "the project folder (or './dev host'), or let the backup command start it "
                "with --local"
            )
        else:
            text += "; check --url"
        if error is not None and not urls.is_loopback(self.base_url):
            text += f" ({type(error).__name__})"
        return text

    def _url(self, url: str) -> str:
        return urls.with_query(url, code=self.code)

    def status_url(self, instance: str) -> str:
        """The status URL for an instance id, or ``instance`` itself when it is a URL."""
        if urls.is_url(instance):
            return instance
        return urls.instance_url(self.base_url, instance, self.code)

    # ---- operations ----------------------------------------------------------------------

    def start_backup(
        self,
        path: str,
        container: str | None = None,
        prefix: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> StartedBackup:
        """Start a backup; ``options`` are further request options (exclude, dryRun, ...)."""
        body: dict[str, Any] = {"path": path}
        if container is not None:
            body["container"] = container
        if prefix is not None:
            body["prefix"] = prefix
        body.update(options or {})
        return self.start(body)

    def start_restore(self, body: Mapping[str, Any]) -> StartedBackup:
        """Start a restore (the body is the restore request, see docs/app.md)."""
        return self.start(dict(body), urls.RESTORE_ORCHESTRATOR)

    def start(self, body: Any, orchestrator: str = urls.ORCHESTRATOR) -> StartedBackup:
        """POST ``body`` to the starter of ``orchestrator``; the instance id and status URL."""
        url = urls.start_url(self.base_url, self.code, orchestrator)
        response = self._request("POST", url, json=body)
        answer = _decode(response.content)
        if response.status_code == 409:
            raise AlreadyRunning(
                error_message(409, response.reason, answer),
                answer,
                find_status_url(answer),
            )
        if response.status_code != 202 or not isinstance(answer, Mapping):
            if response.status_code < 400:
                raise ApiError(
                    f"unexpected answer to the start request: HTTP {response.status_code} "
                    f"{str(answer)[:300]!r}",
                    response.status_code,
                    answer,
                )
            raise ApiError(
                error_message(response.status_code, response.reason, answer),
                response.status_code,
                answer,
            )
        status_url = answer.get("statusQueryGetUri") or response.headers.get("Location")
        instance_id = answer.get("id")
        if not isinstance(status_url, str) or not isinstance(instance_id, str):
            raise ApiError(
                "the start answer has no instance id or status URL", response.status_code, answer
            )
        template = answer.get("terminatePostUri")
        return StartedBackup(
            instance_id=instance_id,
            status_url=status_url,
            terminate_template=template if isinstance(template, str) else None,
            retry_after=response.headers.get("Retry-After"),
            body=answer,
        )

    def get_status(self, instance: str) -> StatusAnswer:
        """One GET of the status URL (``instance`` is an id or a status URL)."""
        url = self.status_url(instance)
        response = self._request("GET", url)
        answer = _decode(response.content)
        if response.status_code == 404:
            name = urls.instance_id_from_status_url(url) or instance
            raise InstanceNotFound(
                f"the host at {self.base_url} knows no backup with id {name!r}"
                + (f" ({error_message(404, response.reason, answer)})" if answer else ""),
                404,
                answer,
            )
        if response.status_code not in (200, 202) or not isinstance(answer, Mapping):
            raise ApiError(
                error_message(response.status_code, response.reason, answer, "status request"),
                response.status_code,
                answer,
            )
        try:
            snapshot = Snapshot.from_json(answer)
        except ValueError as error:
            raise ApiError(str(error), response.status_code, answer) from None
        return StatusAnswer(
            response.status_code, snapshot, response.headers.get("Retry-After"), answer
        )

    def terminate(self, instance: str, reason: str, template: str | None = None) -> int:
        """Ask the host to terminate; returns 202 (accepted) or 410 (already finished)."""
        if template:
            url = urls.fill_terminate_template(template, reason)
        elif urls.is_url(instance):
            url = urls.terminate_url_from_status_url(instance, reason)
        else:
            url = urls.terminate_url(self.base_url, instance, reason, self.code)
        response = self._request("POST", url)
        if response.status_code in (200, 202, 410):
            return response.status_code
        answer = _decode(response.content)
        if response.status_code == 404:
            name = urls.instance_id_from_status_url(url) or instance
            raise InstanceNotFound(
                f"the host at {self.base_url} knows no backup with id {name!r}", 404, answer
            )
        raise ApiError(
            error_message(response.status_code, response.reason, answer, "terminate request"),
            response.status_code,
            answer,
        )

    # ---- partitions (sub-orchestrations) ------------------------------------------------

    def partitions(self, instance: str, statuses: str | None = None) -> list[Mapping[str, Any]]:
        """The partition instances of a backup or restore (ids ``<id>:<run>:p<n>``), every page.

        ``statuses``: a comma-separated ``runtimeStatus`` filter, or None for all.
        """
        status_url = self.status_url(instance)
        parent_id = urls.instance_id_from_status_url(status_url) or instance
        url = urls.instances_query_url(
            status_url,
            instanceIdPrefix=children.prefix_of(parent_id),
            runtimeStatus=statuses,
            showInput="false",
            top="500",
        )
        found: list[Mapping[str, Any]] = []
        token = ""
        while True:
            headers = {"x-ms-continuation-token": token} if token else {}
            response = self._request("GET", url, headers=headers)
            answer = _decode(response.content)
            if response.status_code != 200 or not isinstance(answer, list):
                raise ApiError(
                    error_message(response.status_code, response.reason, answer, "instance query"),
                    response.status_code,
                    answer,
                )
            found.extend(item for item in answer if isinstance(item, Mapping))
            token = response.headers.get("x-ms-continuation-token") or ""
            if not token or not answer:
                return found

    def terminate_partitions(self, instance: str, reason: str) -> int:
        """Terminate every partition of ``instance`` still active; how many were asked to stop.

        The extension does not pass a terminate on to sub-orchestrations, so the client does.
        """
        asked = 0
        for item in self.partitions(instance, ACTIVE_STATUSES):
            child = item.get("instanceId")
            if isinstance(child, str) and self.terminate(child, reason) in (200, 202):
                asked += 1
        return asked

    def purge(self, instance: str) -> int:
        """Delete a finished backup's history and its partitions'; how many instances went."""
        status_url = self.status_url(instance)
        deleted = 0
        for item in self.partitions(instance):
            child = item.get("instanceId")
            if isinstance(child, str):
                deleted += self._purge_one(self.status_url(child))
        return deleted + self._purge_one(status_url)

    def _purge_one(self, status_url: str) -> int:
        response = self._request("DELETE", status_url)
        answer = _decode(response.content)
        if response.status_code == 404:
            return 0
        if response.status_code != 200:
            raise ApiError(
                error_message(response.status_code, response.reason, answer, "purge request"),
                response.status_code,
                answer,
            )
        count = answer.get("instancesDeleted") if isinstance(answer, Mapping) else None
        return count if isinstance(count, int) else 1
