"""The activity threads: a fixed set of threads taking jobs from one queue."""

from __future__ import annotations

import contextlib
import functools
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

__all__ = ["ActivityThreads"]

log = logging.getLogger(__name__)


class ActivityThreads(Executor):
    """A fixed set of threads taking jobs from one queue.

    ``run`` hands a job over without the ``Future`` (and its lock and condition) that
    ``ThreadPoolExecutor.submit`` builds per job: with one activity per file, that is paid per
    file. ``submit`` is there for ``run_in_executor``.
    """

    def __init__(self, size: int, name: str) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = (
            queue.SimpleQueue()
        )
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}_{n}", daemon=True)
            for n in range(max(1, size))
        ]
        for thread in self._threads:
            thread.start()

    def run(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` in a thread; what it returns or raises is not kept."""
        if self._closed:
            raise RuntimeError("cannot schedule new jobs after shutdown")
        self._jobs.put((fn, args))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        self.run(_settle, future, functools.partial(fn, *args, **kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._closed = True
        if cancel_futures:
            # Jobs not started yet are dropped (their work items stay in the store).
            with contextlib.suppress(queue.Empty):
                while True:
                    self._jobs.get_nowait()
        for _ in self._threads:
            self._jobs.put(None)
        if wait:
            for thread in self._threads:
                if thread is not threading.current_thread():
                    thread.join()

    def _work(self) -> None:
        jobs = self._jobs
        while True:
            job = jobs.get()
            if job is None:
                return
            fn, args = job
            try:
                fn(*args)
            except BaseException:  # noqa: BLE001 - one job's failure must not end the thread
                log.exception("An activity thread's job failed")


def _settle(future: Future, call: Callable[[], Any]) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        future.set_result(call())
    except BaseException as error:  # noqa: BLE001 - handed to whoever waits on the future
        future.set_exception(error)
