"""Plain HTTP against a running host: one request, and polling a status URL with a deadline.

The benchmark, the fault command and the tests drive the host through these two; any status
code is an answer (no exception for 4xx/5xx), and a poll that runs out of time says what the
last answer was.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from devhost.contracts import HostError

__all__ = ["TERMINAL", "HttpAnswer", "PollTimeout", "http_request", "poll", "wait_for_status"]

TERMINAL = frozenset({"Completed", "Failed", "Terminated", "Canceled"})


class PollTimeout(HostError):
    """The deadline passed before the awaited answer; the message holds the last one seen."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def http_request(
    method: str,
    url: str,
    body: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> HttpAnswer:
    """One HTTP request; any status code is an answer."""
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpAnswer(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return HttpAnswer(error.code, dict(error.headers.items()), error.read())


def poll(
    url: str,
    done: Callable[[HttpAnswer], bool],
    timeout: float,
    interval: float = 0.05,
    what: str = "the expected answer",
) -> HttpAnswer:
    """GET ``url`` every ``interval`` seconds until ``done(answer)``; returns that answer.

    Connection errors count as "not yet" (a host may be restarting); after ``timeout``
    seconds it raises ``PollTimeout`` with the last answer or error.
    """
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        try:
            answer = http_request("GET", url, timeout=max(1.0, min(timeout, 30.0)))
            if done(answer):
                return answer
            last = f"HTTP {answer.status}: {answer.body[:2000]!r}"
        except (OSError, ValueError) as error:
            last = f"{type(error).__name__}: {error}"
        if time.monotonic() >= deadline:
            raise PollTimeout(f"{url} did not give {what} within {timeout:.0f} s; last: {last}")
        time.sleep(interval)


def wait_for_status(
    status_url: str,
    statuses: Iterable[str] = TERMINAL,
    timeout: float = 30.0,
    interval: float = 0.05,
) -> dict:
    """Poll an instance's status URL until ``runtimeStatus`` is one of ``statuses``."""
    wanted = frozenset(statuses)

    def reached(answer: HttpAnswer) -> bool:
        try:
            payload = answer.json()
        except ValueError:
            return False
        return isinstance(payload, dict) and payload.get("runtimeStatus") in wanted

    answer = poll(status_url, reached, timeout, interval, f"a status in {sorted(wanted)}")
    return answer.json()
