"""Results say which commit they measured and whether the tree had changes on top of it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.meta import git_state


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def test_dirty_follows_changes_to_tracked_files(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    _git(tmp_path, "add", "code.py")
    _git(tmp_path, "commit", "-q", "-m", "one")
    head = _git(tmp_path, "rev-parse", "--short", "HEAD")

    assert git_state(tmp_path).commit == head
    assert git_state(tmp_path).dirty is False
    (tmp_path / "results.json").write_text("{}")  # output of a run: not code
    assert git_state(tmp_path).dirty is False
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_state(tmp_path).dirty is True


def test_outside_a_checkout_nothing_is_claimed(tmp_path: Path) -> None:
    state = git_state(tmp_path / "nothing-here")
    assert (state.commit, state.dirty) == ("unknown", None)
