"""CPU seconds and peak memory of processes (the host, Azurite, this one), sampled with psutil."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import psutil


def _tree(process: psutil.Process, children: bool) -> list[psutil.Process]:
    if not children:
        return [process]
    try:
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return [process]


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU seconds of ``pid`` (and its live children); 0 when it is gone."""
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return 0.0
    total = 0.0
    for process in _tree(root, children):
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def rss_bytes(pid: int, children: bool = False) -> int:
    """Resident memory of ``pid`` (and its live children); 0 when it is gone."""
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return 0
    total = 0
    for process in _tree(root, children):
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total


@dataclass(frozen=True)
class Usage:
    """What one monitored interval cost: CPU seconds per process, peak RSS per process."""

    cpu: dict[str, float]
    peak_rss: dict[str, int]


class Monitor:
    """Samples the RSS of named processes every ``interval`` seconds in a thread.

    ``with Monitor({"host": pid, "azurite": pid}) as m: ...`` then ``m.usage``: CPU seconds
    spent inside the block and the peak RSS seen while it ran. Names in ``with_children``
    count their child processes too (never this process: Azurite is one of its children).
    """

    def __init__(
        self,
        pids: dict[str, int],
        interval: float = 0.05,
        with_children: frozenset[str] = frozenset(),
    ) -> None:
        self.pids = dict(pids)
        self.interval = interval
        self.with_children = with_children
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cpu_start: dict[str, float] = {}
        self._peak: dict[str, int] = dict.fromkeys(self.pids, 0)
        self.usage: Usage | None = None

    def _cpu(self) -> dict[str, float]:
        return {
            name: cpu_seconds(pid, name in self.with_children) for name, pid in self.pids.items()
        }

    @property
    def peak_rss(self) -> dict[str, int]:
        """The peaks seen so far (bytes)."""
        return dict(self._peak)

    def _sample(self) -> None:
        for name, pid in self.pids.items():
            rss = rss_bytes(pid, name in self.with_children)
            self._peak[name] = max(self._peak[name], rss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> Monitor:
        self._cpu_start = self._cpu()
        self._sample()
        self._thread = threading.Thread(target=self._run, name="bench-monitor", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        end = self._cpu()
        cpu = {name: max(0.0, end[name] - self._cpu_start[name]) for name in self.pids}
        self.usage = Usage(cpu, dict(self._peak))
