"""Load for the tests: poll status URLs at a steady rate, sample a process's memory."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psutil

from tests.support.host_process import http_request


@dataclass
class PollStats:
    sent: int = 0
    errors: list[str] = field(default_factory=list)
    # Answers by HTTP status (202: the instance was still running when it answered).
    answers: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


class Poller:
    """GETs ``urls`` round robin at ``rate`` requests per second until stopped."""

    def __init__(self, urls: Sequence[str], rate: float, workers: int = 16) -> None:
        self.urls, self.rate, self.workers = list(urls), rate, workers
        self.stats = PollStats()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _one(self, url: str) -> None:
        began = time.perf_counter()
        try:
            answer = http_request("GET", url, timeout=30)
            status: int | None = answer.status
            problem = None if answer.status in (200, 202) else f"HTTP {answer.status}"
        except OSError as error:
            status = None
            problem = f"{type(error).__name__}: {error}"
        with self._lock:
            self.stats.latencies.append(time.perf_counter() - began)
            if status is not None:
                self.stats.answers[status] += 1
            if problem:
                self.stats.errors.append(problem)

    def _run(self) -> None:
        began = time.monotonic()
        with ThreadPoolExecutor(self.workers) as pool:
            while not self._stop.is_set():
                # Pace by the clock, not by completions: a slow host must not lower the load.
                due = began + self.stats.sent / self.rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(self._one, self.urls[self.stats.sent % len(self.urls)])
                self.stats.sent += 1
        self.stats.seconds = time.monotonic() - began

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)


class MemorySampler:
    """The peak resident memory of a process (and its children), sampled every ``interval``."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        total = self.process.memory_info().rss
        for child in self.process.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                total += child.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(self.rss())
            except psutil.NoSuchProcess:
                return
            time.sleep(self.interval)

    @property
    def peak(self) -> int:
        return max(self.samples, default=0)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
