"""How a file list is cut into partitions and partitions into waves (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

# Medium trees are cut into about this many partitions, so progress moves in small steps;
# partitions never get smaller than MIN_PARTITION files (each one costs a sub-orchestration).
TARGET_PARTITIONS = 16
MIN_PARTITION = 50


def partition_size_for(file_count: int, max_size: int) -> int:
    """Files per partition: at most ``max_size``, smaller for trees that would make few."""
    wanted = max(MIN_PARTITION, -(-file_count // TARGET_PARTITIONS))
    return max(1, min(max_size, wanted))


def chunks(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` cut into consecutive lists of ``size`` (the last may be shorter)."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def partitions(files: Sequence[T], max_size: int) -> list[list[T]]:
    return chunks(files, partition_size_for(len(files), max_size))
