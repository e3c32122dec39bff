"""The benchmark: our backup and our durable engine, measured against the storage ceiling.

``python -m bench`` (or ``./dev bench``) builds deterministic trees, uploads them straight with
``azure-storage-blob`` (the ceiling), backs them up through the local host (ours), runs a no-op
fan-out app on the host (the engine alone), and prints one table with every target met or not.
"""

from __future__ import annotations


class BenchError(Exception):
    """Base class of the benchmark's errors: a run failed or gave a wrong answer."""
