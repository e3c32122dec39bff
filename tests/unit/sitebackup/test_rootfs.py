"""Lookups confined to a backup root: links followed inside it, never out of it."""

from __future__ import annotations

import errno
import os

import pytest

from sitebackup.rootfs import EscapesRoot, RootDir, open_beneath


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f.txt").write_text("inside")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f.txt").write_text("outside")
    return root, outside


def _read(root: RootDir, rel: str) -> str:
    with os.fdopen(root.open_file(rel), "rb") as stream:
        return stream.read().decode()


def test_links_inside_the_root_are_followed(tree):
    root, _ = tree
    (root / "rel-link").symlink_to("a/b/f.txt")
    (root / "a" / "up-link").symlink_to("../a/b/f.txt")
    (root / "abs-link").symlink_to(root / "a" / "b" / "f.txt")
    (root / "dir-link").symlink_to("a/b", target_is_directory=True)
    with RootDir(str(root)) as handle:
        for rel in ("a/b/f.txt", "rel-link", "a/up-link", "abs-link", "dir-link/f.txt"):
            assert _read(handle, rel) == "inside", rel


def test_links_out_of_the_root_are_refused(tree):
    root, outside = tree
    (root / "abs-out").symlink_to(outside / "f.txt")
    (root / "climb").symlink_to("../outside/f.txt")
    (root / "a" / "dir-out").symlink_to(outside, target_is_directory=True)
    with RootDir(str(root)) as handle:
        for rel in ("abs-out", "climb", "a/dir-out/f.txt", "../outside/f.txt"):
            with pytest.raises(EscapesRoot):
                handle.open_file(rel)


def test_a_link_loop_is_an_error_of_that_path(tree):
    root, _ = tree
    (root / "ping").symlink_to("pong")
    (root / "pong").symlink_to("ping")
    with RootDir(str(root)) as handle, pytest.raises(OSError) as raised:
        handle.open_file("ping")
    assert raised.value.errno == errno.ELOOP


def test_no_handle_is_left_open(tree):
    root, outside = tree
    (root / "climb").symlink_to("../outside/f.txt")
    before = len(os.listdir("/proc/self/fd"))
    with RootDir(str(root)) as handle:
        for _ in range(50):
            os.close(handle.open_file("a/b/f.txt"))
            with pytest.raises(OSError):
                handle.open_file("climb")
            with pytest.raises(OSError):
                handle.open_file("a/missing/f.txt")
    assert len(os.listdir("/proc/self/fd")) == before


def test_open_beneath_refuses_a_folder_that_is_a_link(tree):
    root, outside = tree
    (root / "swapped").symlink_to(outside, target_is_directory=True)
    os.close(open_beneath(str(root), ["a", "b"]))
    with pytest.raises(OSError) as raised:
        open_beneath(str(root), ["swapped"])
    assert raised.value.errno in (errno.ELOOP, errno.ENOTDIR)
