"""Does nothing, so that what is measured is the engine's cost per activity."""

from __future__ import annotations

from engine_counters import activity


def main(value: int) -> None:
    activity()
