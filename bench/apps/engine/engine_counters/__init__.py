"""Counters kept in the host process: episodes per instance, orchestrator time, activities.

The orchestrator generator function runs once per episode (the SDK replays it from the top
each time), so counting its calls counts the episodes the host ran for each instance.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_episodes: Counter[str] = Counter()
_calls: Counter[str] = Counter()
_seconds: Counter[str] = Counter()
_activities = 0


def episode(instance_id: str) -> None:
    with _lock:
        _episodes[instance_id] += 1


def activity() -> None:
    global _activities
    with _lock:
        _activities += 1


def counted_orchestrator(name: str, handle: Callable[[Any], str]) -> Callable[[Any], str]:
    """``handle`` (the SDK's orchestrator entry point), timing every invocation."""

    def main(context: Any) -> str:
        started = time.perf_counter()
        try:
            return handle(context)
        finally:
            elapsed = time.perf_counter() - started
            with _lock:
                _calls[name] += 1
                _seconds[name] += elapsed

    main.orchestrator_function = getattr(handle, "orchestrator_function", None)
    return main


def snapshot() -> dict[str, Any]:
    with _lock:
        return {
            "episodes": dict(_episodes),
            "functions": {n: {"calls": _calls[n], "seconds": _seconds[n]} for n in _calls},
            "activities": _activities,
        }
