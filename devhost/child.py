"""The local host as a child process: start it, wait until it serves, stop or kill it.

One launcher for everything that runs the host as a subprocess (the client's ``--local``, the
benchmark, the fault command, the tests)::

    with running_host(app_dir, state_dir) as host:
        started = host.post_json("/api/orchestrators/Hello")
        status = host.wait_for_status(started["id"])

It runs ``python -m devhost APP`` with a ready file (``ready.wait_ready``: the deadline, and
the log tail when the host does not come up), appends everything the host prints to
``log_path`` across restarts, and stops it with SIGTERM first (``ready.terminate``). Ports
come from the OS unless one is asked for.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devhost.contracts import HostError
from devhost.poll import TERMINAL, HttpAnswer, PollTimeout, http_request, wait_for_status
from devhost.ready import HostNotReady, terminate, wait_ready

__all__ = ["HostProcess", "HostProcessError", "running_host"]


class HostProcessError(HostError):
    """The host did not start, died, or did not reach the expected state in time."""


@dataclass
class HostProcess:
    """A host subprocess; ``start()`` returns once its ready file says it serves."""

    app_dir: Path
    state_dir: Path | None  # --state-dir; None: the host's default (<app>/.devhost)
    env: Mapping[str, str] | None = None  # added to this process's environment
    extra_args: Sequence[str] = ()
    start_timeout: float = 60.0
    no_azurite: bool = True  # callers that bring their own storage; False lets the host start it
    port: int = 0
    files_dir: Path | None = None  # ready file and log; default: state_dir
    cwd: Path | None = None
    new_session: bool = False  # its own session: a terminal's Ctrl-C reaches only the caller
    url: str = ""
    rpc_url: str = ""
    pid: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def _files(self) -> Path:
        folder = self.files_dir or self.state_dir
        if folder is None:
            raise HostProcessError("HostProcess needs a state_dir or a files_dir")
        return folder

    @property
    def log_path(self) -> Path:
        return self._files / "host.log"

    @property
    def ready_file(self) -> Path:
        return self._files / "ready.json"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "devhost",
            str(self.app_dir),
            "--port",
            str(self.port),
            # The SDK's RPC port: any free one, so a host already using the default does not clash.
            "--rpc-port",
            "0",
            *(["--state-dir", str(self.state_dir)] if self.state_dir is not None else []),
            "--ready-file",
            str(self.ready_file),
            *(["--no-azurite"] if self.no_azurite else []),
            *self.extra_args,
        ]

    def start(self) -> HostProcess:
        if self.process is not None and self.process.poll() is None:
            raise HostProcessError(f"host already running (pid {self.process.pid})")
        self._files.mkdir(parents=True, exist_ok=True)
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
                cwd=self.cwd,
                env=env,
                start_new_session=self.new_session,
            )
        self.pid = self.process.pid
        try:
            ready = wait_ready(self.process, self.ready_file, self.start_timeout, self.log_tail)
        except HostNotReady as error:
            # SIGTERM first: a host that started Azurite stops it on the way out.
            terminate(self.process, 10.0)
            raise HostProcessError(str(error)) from None
        self.url = ready["url"].rstrip("/")
        self.rpc_url = ready.get("rpcUrl") or ""
        return self

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.process.returncode if self.process is not None else None

    def kill(self) -> None:
        """SIGKILL: the crash case. State on disk is whatever the host had committed."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait for a clean exit; returns the exit code.

        Raises ``HostProcessError`` when the host needed SIGKILL after ``timeout`` seconds.
        """
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

    # ---- HTTP ---------------------------------------------------------------------------

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
        except PollTimeout as error:
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
    cwd: Path | None = None,
) -> Iterator[HostProcess]:
    """Start the host on ``app_dir`` with its state in ``state_dir``; stop it on exit."""
    host = HostProcess(
        Path(app_dir),
        Path(state_dir),
        env,
        tuple(extra_args),
        start_timeout,
        no_azurite,
        cwd=cwd,
    )
    host.start()
    try:
        yield host
    finally:
        # stop() falls back to SIGKILL; a caller that cares about clean exits calls it itself.
        if host.running:
            with contextlib.suppress(HostProcessError):
                host.stop()
