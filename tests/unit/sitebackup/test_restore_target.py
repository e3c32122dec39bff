"""The restore target on disk: folders opened from a handle, never through a link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sitebackup.restore import names, target


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "restores"
    path.mkdir()
    return path


def test_target_must_lie_inside_a_restore_root(root: Path, tmp_path: Path) -> None:
    assert target.target_problem(str(root / "site"), ()) == "no restore roots are configured"
    outside = tmp_path / "elsewhere"
    assert "outside" in target.target_problem(str(outside), (str(root),))
    (root / "file").write_text("x")
    assert "not a folder" in target.target_problem(str(root / "file"), (str(root),))
    assert target.target_problem(str(root / "new" / "site"), (str(root),)) is None
    gone = tmp_path / "gone"
    assert "does not exist" in target.target_problem(str(gone / "site"), (str(gone),))


def test_open_target_creates_it_and_refuses_a_link_swapped_in(root: Path, tmp_path: Path) -> None:
    fd = target.open_target(str(root / "a" / "site"), (str(root),), create=True)
    os.close(fd)
    assert (root / "a" / "site").is_dir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "b").symlink_to(outside)
    # The starter resolved root/b/site before the link appeared: the path is no longer real.
    with pytest.raises(target.TargetRefused):
        target.open_target(str(root / "b" / "site"), (str(root),), create=True)
    assert not (outside / "site").exists()


def test_open_parent_creates_folders_and_refuses_links_on_the_way(
    root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "uploads").symlink_to(outside)
    (root / "plain").write_text("not a folder")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        parent = target.open_parent(fd, ["x", "y", "z.txt"])
        os.close(parent)
        assert (root / "x" / "y").is_dir()
        with pytest.raises(target.TargetRefused, match="'uploads'"):
            target.open_parent(fd, ["uploads", "evil.php"])
        (root / "x" / "hop").symlink_to(outside)
        with pytest.raises(target.TargetRefused, match="'x/hop'"):
            target.open_parent(fd, ["x", "hop", "deeper", "evil.php"])
        with pytest.raises(target.TargetRefused, match="'plain'"):
            target.open_parent(fd, ["plain", "f"])
    finally:
        os.close(fd)
    assert list(outside.iterdir()) == []


def test_leaf_kind_does_not_follow_links(root: Path) -> None:
    (root / "f").write_text("x")
    (root / "d").mkdir()
    (root / "l").symlink_to(root / "f")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        kinds = {name: target.leaf_kind(fd, name)[0] for name in ("f", "d", "l", "none")}
    finally:
        os.close(fd)
    assert kinds == {"f": "file", "d": "folder", "l": "link", "none": "absent"}


def test_sweep_removes_only_temporary_files_and_stays_inside(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    bait = outside / names.temp_name("bait")
    bait.write_text("not ours to delete")
    (root / "a" / "b").mkdir(parents=True)
    (root / "link").symlink_to(outside)
    stale = [root / names.temp_name("x"), root / "a" / "b" / names.temp_name("y")]
    for path in stale:
        path.write_text("partial")
    (root / "a" / "kept.txt").write_text("restored")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        removed = target.sweep_temp_files(fd)
    finally:
        os.close(fd)
    assert sorted(removed) == sorted(str(p.relative_to(root)) for p in stale)
    assert not any(path.exists() for path in stale)
    assert bait.exists() and (root / "a" / "kept.txt").exists()
