"""Run the local host as a subprocess for end-to-end tests.

    with running_host(app_dir, tmp_path / "state") as host:
        started = host.post_json(f"/api/orchestrators/Hello")
        status = host.wait_for_status(started["id"], {"Completed"}, timeout=30)

The host binds free ports (``--port 0 --rpc-port 0``) and writes a ready file with its URLs;
``running_host`` waits for that file with a deadline and shows the log tail when the host
does not come up. Everything the host prints goes to ``log_path`` (appended across restarts).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devhost.ready import HostNotReady, terminate, wait_ready

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
TERMINAL = frozenset({"Completed", "Failed", "Terminated", "Canceled"})


class HostProcessError(RuntimeError):
    """The host did not start, died, or did not reach the expected state in time."""


@dataclass
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
    """One HTTP request; any status code is an answer (no exception for 4xx/5xx)."""
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpAnswer(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return HttpAnswer(error.code, dict(error.headers.items()), error.read())


def wait_for_status(
    status_url: str, statuses: Iterable[str], timeout: float = 30.0, interval: float = 0.05
) -> dict:
    """Poll a status URL until ``runtimeStatus`` is one of ``statuses``; returns the JSON.

    Raises HostProcessError with the last answer seen when the deadline passes.
    """
    wanted = set(statuses)
    deadline = time.monotonic() + timeout
    last: str = "no answer"
    while True:
        try:
            answer = http_request("GET", status_url, timeout=max(1.0, timeout))
            if answer.body:
                payload = answer.json()
                if isinstance(payload, dict) and payload.get("runtimeStatus") in wanted:
                    return payload
            last = f"HTTP {answer.status}: {answer.body[:2000]!r}"
        except (OSError, ValueError) as error:
            last = f"{type(error).__name__}: {error}"
        if time.monotonic() >= deadline:
            raise HostProcessError(
                f"{status_url} did not reach {sorted(wanted)} within {timeout:.0f} s; "
                f"last answer: {last}"
            )
        time.sleep(interval)


@dataclass
class HostProcess:
    """A host subprocess; ``start()`` returns once its ready file says it serves."""

    app_dir: Path
    state_dir: Path
    env: Mapping[str, str] | None = None
    extra_args: Sequence[str] = ()
    start_timeout: float = 60.0
    no_azurite: bool = True  # tests bring their own storage; False lets the host start Azurite
    url: str = ""
    rpc_url: str = ""
    pid: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        return self.state_dir / "host.log"

    @property
    def ready_file(self) -> Path:
        return self.state_dir / "ready.json"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "devhost",
            str(self.app_dir),
            "--port",
            "0",
            "--rpc-port",
            "0",
            "--state-dir",
            str(self.state_dir),
            "--ready-file",
            str(self.ready_file),
            *(["--no-azurite"] if self.no_azurite else []),
            *self.extra_args,
        ]

    def start(self) -> HostProcess:
        if self.process is not None and self.process.poll() is None:
            raise HostProcessError(f"host already running (pid {self.process.pid})")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.ready_file.unlink(missing_ok=True)
        env = dict(os.environ)
        env.pop("PYTHONWARNINGS", None)  # the SDK warns on import; that is harmless
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.env or {})
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== {' '.join(self.command())}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=PROJECT_DIR,
                env=env,
            )
        self.pid = self.process.pid
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        assert self.process is not None
        try:
            ready = wait_ready(self.process, self.ready_file, self.start_timeout, self.log_tail)
        except HostNotReady as error:
            self.kill()
            raise HostProcessError(str(error)) from None
        self.url = ready["url"].rstrip("/")
        self.rpc_url = ready.get("rpcUrl") or ""

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the crash case. State on disk is whatever the host had committed."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait for a clean exit; returns the exit code (SIGKILL after timeout)."""
        if self.process is None:
            return 0
        if not terminate(self.process, timeout):
            raise HostProcessError(
                f"host did not stop within {timeout:.0f} s of SIGTERM; log tail:\n{self.log_tail()}"
            )
        return self.process.returncode

    def restart(self, kill: bool = False) -> HostProcess:
        """Stop (or SIGKILL with ``kill=True``) and start again on the same state."""
        if kill:
            self.kill()
        else:
            self.stop()
        return self.start()

    # ---- HTTP helpers -------------------------------------------------------------------

    def absolute(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return self.url + "/" + path_or_url.lstrip("/")

    def request(
        self,
        method: str,
        path_or_url: str,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> HttpAnswer:
        return http_request(method, self.absolute(path_or_url), body, headers, timeout)

    def post_json(self, path_or_url: str, value: Any = None, timeout: float = 30.0) -> Any:
        """POST ``value`` as JSON (no body when None); returns the parsed answer body."""
        body = None if value is None else json.dumps(value)
        answer = self.request(
            "POST", path_or_url, body, {"Content-Type": "application/json"}, timeout
        )
        if answer.status >= 400:
            raise HostProcessError(f"POST {path_or_url} -> {answer.status}: {answer.body!r}")
        return answer.json()

    def status_url(self, instance_id_or_url: str) -> str:
        if instance_id_or_url.startswith(("http://", "https://")):
            return instance_id_or_url
        quoted = urllib.parse.quote(instance_id_or_url, safe="")
        return f"{self.url}/runtime/webhooks/durabletask/instances/{quoted}"

    def wait_for_status(
        self,
        instance_id_or_url: str,
        statuses: Iterable[str] = TERMINAL,
        timeout: float = 30.0,
    ) -> dict:
        """Poll until the instance's runtimeStatus is in ``statuses`` (default: terminal)."""
        try:
            return wait_for_status(self.status_url(instance_id_or_url), statuses, timeout)
        except HostProcessError as error:
            raise HostProcessError(
                f"{error}\nhost {'running' if self.running else 'not running'}; log tail:\n"
                f"{self.log_tail()}"
            ) from None


@contextlib.contextmanager
def running_host(
    app_dir: Path | str,
    state_dir: Path | str,
    env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    start_timeout: float = 60.0,
    no_azurite: bool = True,
) -> Iterator[HostProcess]:
    """Start the host on ``app_dir`` with its state in ``state_dir``; stop it on exit."""
    host = HostProcess(
        Path(app_dir), Path(state_dir), env, tuple(extra_args), start_timeout, no_azurite
    )
    host.start()
    try:
        yield host
    finally:
        # stop() falls back to SIGKILL; a test that cares about clean exits calls it itself.
        if host.running:
            with contextlib.suppress(HostProcessError):
                host.stop()
