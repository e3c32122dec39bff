"""Plain HTTP for driving the host (the shared ``devhost.poll``): start an orchestration,
follow its status URL to the end."""

from __future__ import annotations

import json
from typing import Any

from bench import BenchError
from devhost.poll import TERMINAL, HttpAnswer, PollTimeout, http_request, wait_for_status

__all__ = ["TERMINAL", "request", "start_orchestration", "wait_until_done"]


def request(
    method: str, url: str, value: Any = None, timeout: float = 60.0, raw: bytes | None = None
) -> HttpAnswer:
    """One request; ``value`` is sent as JSON. Any status code is an answer."""
    data = raw if raw is not None else (None if value is None else json.dumps(value).encode())
    headers = {"Content-Type": "application/json"} if data is not None else {}
    return http_request(method, url, data, headers, timeout)


def start_orchestration(url: str, value: Any) -> str:
    """POST to a starter; returns the status URL from the 202 answer."""
    answer = request("POST", url, value)
    if answer.status != 202:
        raise BenchError(f"POST {url} answered {answer.status}: {answer.body[:2000]!r}")
    location = answer.headers.get("Location") or (answer.json() or {}).get("statusQueryGetUri")
    if not location:
        raise BenchError(f"POST {url} answered 202 without a status URL: {answer.body[:500]!r}")
    return location


def wait_until_done(status_url: str, timeout: float, interval: float = 0.05) -> dict:
    """Poll until the instance is terminal; returns its status JSON.

    Polling every 50 ms costs the host about one status request per 50 ms: small next to the
    work measured, and it bounds the timing error to 50 ms.
    """
    try:
        return wait_for_status(status_url, TERMINAL, timeout, interval)
    except PollTimeout as error:
        raise BenchError(str(error)) from None
