"""More Python worker processes for activities, as ``FUNCTIONS_WORKER_PROCESS_COUNT`` asks.

The Functions host starts that many Python worker processes (1 unless the app setting says
more, at most 10) and spreads invocations over them; each has its own interpreter, so its
own GIL. Here the host's own process is the first worker and runs everything, as before;
with a count above 1, child processes load the same app and take activities too. Each runs
them in ``PYTHON_THREADPOOL_THREAD_COUNT`` threads (the activity slots when unset), and an
activity goes to the worker with the fewest running (a child on a tie). Orchestrators and
HTTP functions stay in the host's process: their replay and state are the task hub's.

A child that dies takes its running activities with it: they come back as retryable, so the
host runs them again, as the real host re-delivers the work of a worker that crashed. A dead
child gets no more work.

A child is a plain ``python -m devhost.functions.processes FD`` on one end of a socket pair,
not a ``multiprocessing`` process: spawning one of those also starts multiprocessing's
resource tracker, a third interpreter (about 13 MiB) that a worker has no use for.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import pickle
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from pathlib import Path

from devhost.config import HostConfig
from devhost.contracts import ActivityOutcome

__all__ = [
    "MAX_WORKER_PROCESSES",
    "THREAD_COUNT_SETTING",
    "WORKER_COUNT_SETTING",
    "WorkerProcesses",
    "thread_count",
    "worker_process_count",
]

log = logging.getLogger(__name__)

WORKER_COUNT_SETTING = "FUNCTIONS_WORKER_PROCESS_COUNT"
THREAD_COUNT_SETTING = "PYTHON_THREADPOOL_THREAD_COUNT"
MAX_WORKER_PROCESSES = 10  # the Functions host's own limit
MAX_THREADS = 32  # the Python worker's limit for PYTHON_THREADPOOL_THREAD_COUNT
STOP_TIMEOUT_S = 10.0

Done = Callable[[ActivityOutcome], None]
_DIED = ActivityOutcome(failed=True, retryable=True, reason="the worker process ended")


def _setting(environ: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        log.warning("App setting %s=%r is not a number; using %d", name, raw, default)
        return default
    if not 1 <= value <= maximum:
        log.warning(
            "App setting %s=%d is not within 1..%d; using %d",
            name,
            value,
            maximum,
            min(max(value, 1), maximum),
        )
        return min(max(value, 1), maximum)
    return value


def worker_process_count(environ: Mapping[str, str] | None = None) -> int:
    """``FUNCTIONS_WORKER_PROCESS_COUNT``: 1 to 10, 1 when unset."""
    return _setting(
        os.environ if environ is None else environ, WORKER_COUNT_SETTING, 1, MAX_WORKER_PROCESSES
    )


def thread_count(default: int, environ: Mapping[str, str] | None = None) -> int:
    """``PYTHON_THREADPOOL_THREAD_COUNT``: 1 to 32, ``default`` when unset."""
    return _setting(
        os.environ if environ is None else environ, THREAD_COUNT_SETTING, default, MAX_THREADS
    )


def _serve(root: Path, config: HostConfig, conn: Connection, threads: int, log_level: int) -> None:
    """A child worker: load the app, run the activities sent, send back their outcomes."""
    # Imported here: only the child needs them.
    from devhost import logs
    from devhost.functions.app import load_app
    from devhost.functions.threads import ActivityThreads

    # The same log lines as the host's own, into the same stream (inherited).
    logs.configure(log_level)
    app = load_app(root, config)
    pool = ActivityThreads(threads, name="activity")
    sending = threading.Lock()

    def run(job: int, name: str, input_json: str | None) -> None:
        outcome = app.run_activity(name, input_json)
        with sending:
            conn.send((job, outcome))

    try:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break  # the host is gone
            if message is None:
                break
            pool.run(run, *message)
    finally:
        pool.shutdown(wait=True)
        app.close(wait=True)
        conn.close()


def _child_environ() -> dict[str, str]:
    """The host's environment, with the folder ``devhost`` is in first on the module path, so
    the child imports this same ``devhost`` wherever the host was started from."""
    here = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": here + (os.pathsep + path if path else "")}


class _Child:
    """One child worker process and the activities it is running."""

    def __init__(self, root: Path, config: HostConfig, threads: int, n: int) -> None:
        ours, theirs = socket.socketpair()
        with ours, theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                env=_child_environ(),
            )
            self.conn = Connection(os.dup(ours.fileno()))
        self.conn.send(
            (root, config, threads, logging.getLogger().getEffectiveLevel(), f"worker-{n}")
        )
        self.pending: dict[int, Done] = {}
        self.alive = True
        self._lock = threading.Lock()
        self._jobs = itertools.count()
        self._reader = threading.Thread(target=self._read, name=f"worker-{n}-results", daemon=True)
        self._reader.start()

    @property
    def running(self) -> int:
        return len(self.pending)

    def send(self, name: str, input_json: str | None, done: Done) -> bool:
        with self._lock:
            if not self.alive:
                return False
            job = next(self._jobs)
            self.pending[job] = done
            try:
                self.conn.send((job, name, input_json))
            except (OSError, ValueError):
                del self.pending[job]
                return False
        return True

    def _read(self) -> None:
        while True:
            try:
                job, outcome = self.conn.recv()
            except (EOFError, OSError):
                break
            with self._lock:
                done = self.pending.pop(job, None)
            if done is not None:
                done(outcome)
        with self._lock:
            self.alive = False
            orphans, self.pending = list(self.pending.values()), {}
        if orphans:
            log.error(
                "Worker process %d ended with %d activities running; they run again",
                self.process.pid,
                len(orphans),
            )
        for done in orphans:
            done(_DIED)

    def stop(self, wait: bool) -> None:
        with self._lock:
            self.alive = False
            with contextlib.suppress(OSError, ValueError):
                self.conn.send(None)  # the child finishes what it runs, then ends
        try:
            self.process.wait(STOP_TIMEOUT_S if wait else 0.5)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(STOP_TIMEOUT_S)
        self.conn.close()


class WorkerProcesses:
    """``count`` child worker processes for activities (started at once, in the background)."""

    def __init__(self, root: Path, config: HostConfig, count: int, threads: int) -> None:
        self._children = [_Child(root, config, threads, n + 2) for n in range(count)]

    @property
    def pids(self) -> list[int]:
        return [child.process.pid for child in self._children if child.process.pid]

    def least_busy(self) -> tuple[int, _Child | None]:
        """The live child running the fewest activities (None when none is alive)."""
        best: _Child | None = None
        for child in self._children:
            if child.alive and (best is None or child.running < best.running):
                best = child
        return (best.running if best else 0), best

    def stop(self, wait: bool = True) -> None:
        for child in self._children:
            child.stop(wait)


def _child_main(fd: int) -> None:
    """The child's entry: read what to serve from the socket, then serve it."""
    conn = Connection(fd)
    try:
        root, config, threads, log_level, name = conn.recv()
    except (EOFError, OSError, pickle.UnpicklingError):
        return  # the host went away before it said what to run
    threading.current_thread().name = name
    _serve(root, config, conn, threads, log_level)


if __name__ == "__main__":
    _child_main(int(sys.argv[1]))
