"""Counts activity attempts per key, so a test can make an activity fail N times."""

import threading

_lock = threading.Lock()
_attempts: dict[str, int] = {}


def next_attempt(key: str) -> int:
    with _lock:
        _attempts[key] = _attempts.get(key, 0) + 1
        return _attempts[key]
