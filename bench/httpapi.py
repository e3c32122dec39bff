"""Plain HTTP for driving the host: start an orchestration, follow its status URL to the end."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from bench import BenchError

TERMINAL = frozenset({"Completed", "Failed", "Terminated", "Canceled"})


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def request(
    method: str, url: str, value: Any = None, timeout: float = 60.0, raw: bytes | None = None
) -> Answer:
    """One request; ``value`` is sent as JSON. Any status code is an answer."""
    data = raw if raw is not None else (None if value is None else json.dumps(value).encode())
    headers = {"Content-Type": "application/json"} if data is not None else {}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return Answer(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers.items()), error.read())


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
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        try:
            answer = request("GET", status_url, timeout=max(5.0, interval * 10))
            payload = answer.json()
            if isinstance(payload, dict) and payload.get("runtimeStatus") in TERMINAL:
                return payload
            last = f"HTTP {answer.status}: {answer.body[:500]!r}"
        except (OSError, ValueError) as error:
            last = f"{type(error).__name__}: {error}"
        if time.monotonic() >= deadline:
            raise BenchError(
                f"{status_url} did not finish within {timeout:.0f} s; last answer: {last}"
            )
        time.sleep(interval)
