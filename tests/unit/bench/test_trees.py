"""Deterministic trees: same spec, same paths and bytes; reused while unchanged."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from bench import BenchError
from bench.trees import BLOCK_SIZE, FIXED_MTIME, KiB, MiB, TreeSpec, ensure_tree, file_bytes, layout


def test_layout_nests_files_in_bounded_folders() -> None:
    spec = TreeSpec("A", 1234, 16 * KiB, per_folder=50, folders_per_group=10)
    entries = layout(spec)
    assert len(entries) == 1234
    assert len({e.relpath for e in entries}) == 1234
    assert all(e.size == 16 * KiB for e in entries)
    folders: dict[str, int] = {}
    for entry in entries:
        folder = entry.relpath.rsplit("/", 1)[0]
        folders[folder] = folders.get(folder, 0) + 1
        assert entry.relpath.count("/") == 2  # group/sub/file
    assert max(folders.values()) == 50
    assert len(folders) == 25  # ceil(1234 / 50)
    assert len({f.split("/")[0] for f in folders}) == 3  # 10 folders per group


def test_layout_is_a_pure_function_of_the_spec() -> None:
    spec = TreeSpec("D", 300, 16 * KiB)
    assert layout(spec) == layout(TreeSpec("D", 300, 16 * KiB))


def test_layout_rejects_nonsense() -> None:
    with pytest.raises(BenchError):
        layout(TreeSpec("bad", 10, 1, per_folder=0))


def test_same_seed_same_bytes_other_seed_or_file_other_bytes() -> None:
    spec = TreeSpec("A", 10, 16 * KiB, seed=7)
    first = file_bytes(spec, 3, 16 * KiB)
    assert len(first) == 16 * KiB
    assert first == file_bytes(TreeSpec("A", 10, 16 * KiB, seed=7), 3, 16 * KiB)
    assert first != file_bytes(spec, 4, 16 * KiB)
    assert first != file_bytes(TreeSpec("A", 10, 16 * KiB, seed=8), 3, 16 * KiB)
    assert first != file_bytes(TreeSpec("B", 10, 16 * KiB, seed=7), 3, 16 * KiB)


def test_large_files_have_the_exact_size_and_repeat_blocks() -> None:
    size = 3 * MiB + 12345
    spec = TreeSpec("C", 1, size)
    data = file_bytes(spec, 0, size)
    assert len(data) == size
    assert data == file_bytes(spec, 0, size)
    blocks = {data[i : i + BLOCK_SIZE] for i in range(0, 3 * BLOCK_SIZE, BLOCK_SIZE)}
    assert all(len(b) == BLOCK_SIZE for b in blocks)
    assert len(set(data[:64])) > 20  # random, not a constant fill


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_ensure_tree_writes_the_layout_with_fixed_mtimes(tmp_path: Path) -> None:
    spec = TreeSpec("t", 120, 2 * KiB)
    tree = ensure_tree(tmp_path, spec)
    assert tree.root == tmp_path / "t"
    assert tree.files == 120
    assert tree.total_bytes == 120 * 2 * KiB
    on_disk = sorted(p.relative_to(tree.root).as_posix() for p in tree.root.rglob("*.bin"))
    assert on_disk == sorted(e.relpath for e in tree.entries)
    for entry in tree.entries[:5]:
        stat = (tree.root / entry.relpath).stat()
        assert stat.st_size == entry.size
        assert int(stat.st_mtime) == FIXED_MTIME
    # Nothing but the files of the layout inside the tree: the manifest lives beside it.
    assert len(list(p for p in tree.root.rglob("*") if p.is_file())) == 120


def test_a_rebuilt_tree_is_byte_identical(tmp_path: Path) -> None:
    spec = TreeSpec("t", 30, 5000)
    first = _digest(ensure_tree(tmp_path / "one", spec).root)
    second = _digest(ensure_tree(tmp_path / "two", spec).root)
    assert first == second
    assert len(first) == 30


def test_ensure_tree_reuses_an_unchanged_tree_and_rebuilds_a_changed_one(
    tmp_path: Path,
) -> None:
    spec = TreeSpec("t", 20, 1000)
    tree = ensure_tree(tmp_path, spec)
    sample = tree.root / tree.entries[0].relpath
    before = sample.stat().st_ino, sample.stat().st_ctime_ns
    ensure_tree(tmp_path, spec)
    assert (sample.stat().st_ino, sample.stat().st_ctime_ns) == before  # not rewritten

    bigger = TreeSpec("t", 20, 2000)
    rebuilt = ensure_tree(tmp_path, bigger)
    assert (rebuilt.root / rebuilt.entries[0].relpath).stat().st_size == 2000

    last = rebuilt.root / rebuilt.entries[-1].relpath
    os.remove(last)  # damaged since: rebuilt again
    ensure_tree(tmp_path, bigger)
    assert last.stat().st_size == 2000
