"""A real HTTP server on a free loopback port that answers from a script, for client tests.

Each route (method, path) has a list of answers served in order; the last one repeats. Every
request is recorded, so tests can check what the client sent (query, body).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Answer:
    status: int
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    query: str
    body: bytes


class ScriptedServer:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Answer]] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def script(self, method: str, path: str, *answers: Answer) -> None:
        self.routes[(method, path)] = list(answers)

    def requests_to(self, method: str, path: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path == path]

    def _answer(self, method: str, path: str) -> Answer:
        with self._lock:
            answers = self.routes.get((method, path))
            if not answers:
                return Answer(404, b"")
            return answers.pop(0) if len(answers) > 1 else answers[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server._lock:
                    server.seen.append(Seen(self.command, parts.path, parts.query, body))
                answer = server._answer(self.command, parts.path)
                payload = (
                    answer.body
                    if isinstance(answer.body, bytes)
                    else json.dumps(answer.body).encode()
                )
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                if not isinstance(answer.body, bytes):
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@contextmanager
def scripted_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer().start()
    try:
        yield server
    finally:
        server.stop()


def status_body(
    instance_id: str,
    runtime_status: str,
    custom_status: Any = None,
    output: Any = None,
) -> dict[str, Any]:
    return {
        "name": "E2_BackupSiteContent",
        "instanceId": instance_id,
        "runtimeStatus": runtime_status,
        "input": None,
        "customStatus": custom_status,
        "output": output,
        "createdTime": "2026-01-02T03:04:05Z",
        "lastUpdatedTime": "2026-01-02T03:04:07Z",
    }


def start_body(base: str, instance_id: str) -> dict[str, str]:
    mgmt = f"{base}/runtime/webhooks/durabletask/instances/{instance_id}"
    query = "taskHub=SiteBackupHub&connection=Storage"
    return {
        "id": instance_id,
        "statusQueryGetUri": f"{mgmt}?{query}",
        "sendEventPostUri": f"{mgmt}/raiseEvent/{{eventName}}?{query}",
        "terminatePostUri": f"{mgmt}/terminate?reason={{text}}&{query}",
        "purgeHistoryDeleteUri": f"{mgmt}?{query}",
        "restartPostUri": f"{mgmt}/restart?{query}",
        "suspendPostUri": f"{mgmt}/suspend?reason={{text}}&{query}",
        "resumePostUri": f"{mgmt}/resume?reason={{text}}&{query}",
    }
