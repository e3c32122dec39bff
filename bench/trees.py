"""Deterministic trees of files to back up: same spec and seed, same paths, bytes and mtimes.

The layout (paths and sizes) is pure; ``ensure_tree`` writes it to disk once and reuses it
while a manifest beside the tree says it matches the spec, so a second run costs nothing.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import BenchError

log = logging.getLogger(__name__)

KiB = 1024
MiB = 1024 * KiB

# Files larger than one block are written from a small pool of random blocks: generating
# 512 MiB of fresh randomness would cost more than the benchmark itself.
BLOCK_SIZE = 1 * MiB
BLOCK_POOL = 8
# A fixed mtime keeps rebuilt trees identical, metadata included (2026-01-01T00:00:00Z).
FIXED_MTIME = 1_767_225_600
LAYOUT_VERSION = 1


@dataclass(frozen=True)
class TreeSpec:
    """A tree of ``files`` files of ``file_size`` bytes, ``per_folder`` files per leaf folder."""

    name: str
    files: int
    file_size: int
    per_folder: int = 50
    folders_per_group: int = 10
    seed: int = 20260101

    @property
    def total_bytes(self) -> int:
        return self.files * self.file_size


@dataclass(frozen=True)
class FileEntry:
    index: int
    relpath: str  # POSIX separators, relative to the tree root
    size: int


@dataclass(frozen=True)
class Tree:
    """A tree on disk and its layout."""

    spec: TreeSpec
    root: Path
    entries: tuple[FileEntry, ...]

    @property
    def files(self) -> int:
        return len(self.entries)

    @property
    def total_bytes(self) -> int:
        return sum(e.size for e in self.entries)


def layout(spec: TreeSpec) -> list[FileEntry]:
    """The files of ``spec``: nested ``gNN/sNN/fNNNNNN.bin`` folders, in index order."""
    if spec.files < 0 or spec.file_size < 0 or spec.per_folder < 1 or spec.folders_per_group < 1:
        raise BenchError(f"invalid tree spec {spec}")
    entries = []
    for index in range(spec.files):
        folder = index // spec.per_folder
        group, sub = divmod(folder, spec.folders_per_group)
        relpath = f"g{group:02d}/s{sub:02d}/f{index:06d}.bin"
        entries.append(FileEntry(index, relpath, spec.file_size))
    return entries


def file_chunks(spec: TreeSpec, index: int, size: int) -> Iterator[bytes]:
    """The bytes of file ``index``, in chunks of at most ``BLOCK_SIZE``."""
    rng = random.Random(f"{spec.seed}/{spec.name}/{index}")
    if size <= BLOCK_SIZE:
        yield rng.randbytes(size)
        return
    pool = [rng.randbytes(BLOCK_SIZE) for _ in range(BLOCK_POOL)]
    remaining = size
    while remaining > 0:
        block = pool[rng.randrange(BLOCK_POOL)]
        chunk = block if remaining >= BLOCK_SIZE else block[:remaining]
        remaining -= len(chunk)
        yield chunk


def file_bytes(spec: TreeSpec, index: int, size: int) -> bytes:
    return b"".join(file_chunks(spec, index, size))


def _manifest(spec: TreeSpec) -> dict:
    return {"layout": LAYOUT_VERSION, "spec": asdict(spec)}


def _manifest_path(root: Path) -> Path:
    # Beside the tree, not inside it: a file inside would be backed up too.
    return root.with_name(root.name + ".manifest.json")


def _matches(root: Path, spec: TreeSpec, entries: list[FileEntry]) -> bool:
    manifest = _manifest_path(root)
    try:
        if json.loads(manifest.read_text()) != _manifest(spec):
            return False
    except (OSError, ValueError):
        return False
    # Cheap spot check that nobody edited the tree since: first and last files.
    for entry in (entries[:1] + entries[-1:]) if entries else []:
        try:
            stat = (root / entry.relpath).stat()
        except OSError:
            return False
        if stat.st_size != entry.size or int(stat.st_mtime) != FIXED_MTIME:
            return False
    return True


def ensure_tree(parent: Path, spec: TreeSpec) -> Tree:
    """The tree ``spec`` under ``parent/<name>``, written unless an identical one is there."""
    root = parent / spec.name
    entries = layout(spec)
    if _matches(root, spec, entries):
        log.info("tree %s: reusing %s", spec.name, root)
        return Tree(spec, root, tuple(entries))
    log.info(
        "tree %s: writing %d files of %d bytes to %s", spec.name, spec.files, spec.file_size, root
    )
    _manifest_path(root).unlink(missing_ok=True)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for entry in entries:
        path = root / entry.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            for chunk in file_chunks(spec, entry.index, entry.size):
                out.write(chunk)
        os.utime(path, (FIXED_MTIME, FIXED_MTIME))
    _manifest_path(root).write_text(json.dumps(_manifest(spec)))
    return Tree(spec, root, tuple(entries))
