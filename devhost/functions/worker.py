"""What the Python worker hands to functions and takes back from them (no I/O).

Values go through the ``azure-functions`` library's own converters elsewhere; this module has
the objects around them: the ``func.Context`` parameter, named ``func.Out`` outputs, the HTTP
request/response shapes, and the host's encodings of results and failures.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import traceback
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

import azure.functions as func
from azure.functions import _abc as functions_abc
from azure.functions.http import HttpRequestConverter
from azure.functions.meta import Datum

from devhost.contracts import ActivityOutcome
from devhost.functions.bindings import FunctionSpec

# The SDK appends the orchestrator state to the exception message after this marker (§2.6).
OUT_OF_PROC_MARKER = "\n\n$OutOfProcData$:"


class _TraceContext(functions_abc.TraceContext):
    def __init__(self, trace_parent: str = "", trace_state: str = "") -> None:
        self._parent, self._state = trace_parent, trace_state

    @property
    def trace_state(self) -> str:
        return self._state

    @property
    def trace_parent(self) -> str:
        return self._parent

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class _RetryContext(functions_abc.RetryContext):
    @property
    def retry_count(self) -> int:
        return 0

    @property
    def max_retry_count(self) -> int:
        return 0

    @property
    def exception(self) -> Any:
        return None


class InvocationContext(func.Context):
    """The ``context: func.Context`` parameter a function may declare."""

    _local = threading.local()

    def __init__(self, invocation_id: str, spec: FunctionSpec, trace_parent: str = "") -> None:
        self._invocation_id = invocation_id
        self._spec = spec
        self._trace = _TraceContext(trace_parent)

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:
        return self._local

    @property
    def function_name(self) -> str:
        return self._spec.name

    @property
    def function_directory(self) -> str:
        return str(self._spec.directory)

    @property
    def trace_context(self) -> functions_abc.TraceContext:
        return self._trace

    @property
    def retry_context(self) -> functions_abc.RetryContext:
        return _RetryContext()


class OutValue(func.Out):
    """A named output binding (``func.Out[func.HttpResponse]``)."""

    def __init__(self) -> None:
        self._value: Any = None

    def set(self, val: Any) -> None:
        self._value = val

    def get(self) -> Any:
        return self._value


# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpInvocation:
    """An HTTP request as the worker hands it to an httpTrigger function."""

    method: str
    url: str
    headers: Mapping[str, str]
    params: Mapping[str, str]
    route_params: Mapping[str, str]
    body: bytes
    trace_parent: str = ""


@dataclass(frozen=True)
class HttpResult:
    status: int
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""


# Conversions
# ---------------------------------------------------------------------------------------


# Built once: ``json.dumps`` with non-default options builds a new encoder on every call.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def compact_json(text: str | None) -> str | None:
    """TaskCompleted.Result: the value's compact JSON, None for a null (§3.2)."""
    if text is None or text == "null":
        return None
    value = json.loads(text)
    if value is None:
        return None
    return _COMPACT.encode(value)


class InvocationIds:
    """UUID-shaped invocation ids, unique within the process.

    ``uuid4()`` reads the OS random source on every call, a measurable cost per activity; a
    random version-4 base with a counter in its last 48 bits is as unique for one process and
    costs one string format. Safe to call from any thread (``itertools.count`` is atomic).
    """

    def __init__(self) -> None:
        base = str(uuid.uuid4())
        self._prefix = base[:24]  # "xxxxxxxx-xxxx-4xxx-yxxx-": version and variant kept
        self._counter = itertools.count(int(base[24:], 16))

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFF_FFFF_FFFF:012x}"


def state_from(value: Any) -> dict[str, Any]:
    state = json.loads(value) if isinstance(value, str | bytes) else value
    if not isinstance(state, dict):
        raise ValueError(
            f"the orchestrator returned {type(state).__name__}, not the durable SDK's state "
            "JSON (is main = df.Orchestrator.create(...)?)"
        )
    return state


def activity_failure(name: str, message: str, details: str) -> ActivityOutcome:
    # The real host keeps the leading space of " <Type>: <msg>": hence two spaces (§3.3).
    return ActivityOutcome(
        failed=True, reason=f"Activity function '{name}' failed:  {message}", details=details
    )


def stack_text(error: BaseException, skip_file: str | None = None) -> str:
    """The traceback, without the leading frames of ``skip_file`` (the host's caller)."""
    tb = error.__traceback__
    here = os.path.abspath(skip_file) if skip_file else None
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) == here:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb)).rstrip()


def http_request(request: HttpInvocation) -> func.HttpRequest:
    def strings(mapping: Mapping[str, str]) -> dict[str, Datum]:
        return {k: Datum(v, "string") for k, v in mapping.items()}

    datum = Datum(
        {
            "method": Datum(request.method, "string"),
            "url": Datum(request.url, "string"),
            "headers": strings(request.headers),
            "query": strings(request.params),
            "params": strings(request.route_params),
            "body": Datum(request.body, "bytes"),
        },
        "http",
    )
    return HttpRequestConverter.decode(datum, trigger_metadata=None)


def http_result(datum: Datum) -> HttpResult:
    if datum.type == "string":
        body = str(datum.value).encode("utf-8")
        return HttpResult(200, [("Content-Type", "text/plain; charset=utf-8")], body)
    value = datum.value
    headers = [(name, str(h.value)) for name, h in value["headers"].items()]
    for cookie in value.get("cookies") or ():
        if isinstance(cookie, SimpleCookie):
            headers.extend(("Set-Cookie", m.OutputString()) for m in cookie.values())
    body = value["body"].value or b""
    return HttpResult(int(value["status_code"].value), headers, bytes(body))


# ---------------------------------------------------------------------------------------
