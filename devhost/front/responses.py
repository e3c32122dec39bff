"""Answers in the shapes the extension writes: compact JSON, ASP.NET ``HttpError`` bodies.

Error bodies carry ``Message``, ``ExceptionMessage``, ``ExceptionType`` and ``StackTrace``;
404/410/202 answers without content have an empty body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from devhost.contracts import (
    HostError,
    InstanceExists,
    InstanceGone,
    InstanceNotFound,
    InvalidOperation,
)

JSON_TYPE = "application/json; charset=utf-8"
BAD_ARGUMENTS = "One or more of the arguments submitted is incorrect"
SOMETHING_WRONG = "Something went wrong while processing your request"


class ApiArgumentError(HostError):
    """A request argument is wrong (HTTP 400, like the extension's ArgumentException)."""


def dumps(value: Any) -> str:
    """Compact JSON, non-ASCII kept, as Newtonsoft writes it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_response(
    status: int, value: Any, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=dumps(value).encode("utf-8"),
        headers={"Content-Type": JSON_TYPE, **(headers or {})},
    )


def empty_response(status: int, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(status=status, headers=dict(headers or {}))


def error_response(
    status: int,
    message: str,
    exception_message: str | None = None,
    exception_type: str | None = None,
) -> web.Response:
    """ASP.NET ``HttpError``: ``{"Message"}`` alone, or with the exception's fields."""
    body: dict[str, Any] = {"Message": message}
    if exception_message is not None:
        body["ExceptionMessage"] = exception_message
        body["ExceptionType"] = exception_type or "System.Exception"
        body["StackTrace"] = None
    return json_response(status, body)


_EXCEPTION_TYPES = {
    InvalidOperation: "System.InvalidOperationException",
    InstanceExists: "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException",
    ApiArgumentError: "System.ArgumentException",
}


def host_error_response(error: HostError) -> web.Response:
    """The contracts' exceptions mapped to the codes the real host answers."""
    if isinstance(error, InstanceNotFound):
        return empty_response(404)
    if isinstance(error, InstanceGone):
        return empty_response(410)
    if isinstance(error, ApiArgumentError):
        return error_response(400, BAD_ARGUMENTS, str(error), _EXCEPTION_TYPES[ApiArgumentError])
    exception_type = _EXCEPTION_TYPES.get(type(error), "System.Exception")
    return error_response(500, SOMETHING_WRONG, str(error), exception_type)
