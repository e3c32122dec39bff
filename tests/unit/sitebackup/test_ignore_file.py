"""Reading .backupignore from the root of a tree, by path or from a handle on the root."""

from __future__ import annotations

import os

import pytest

from sitebackup.errors import RuleError
from sitebackup.ignore_file import read_rules


def test_no_file_means_no_rules(tmp_path):
    assert read_rules(str(tmp_path)) == []


def test_rules_by_path_and_by_handle(tmp_path):
    (tmp_path / ".backupignore").write_text("# cache\ncache/\n*.log\n")
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        by_handle = read_rules(fd)
    finally:
        os.close(fd)
    assert [(r.pattern, r.line) for r in read_rules(str(tmp_path))] == [("cache/", 2), ("*.log", 3)]
    assert by_handle == read_rules(str(tmp_path))


def test_a_symlink_is_refused_not_followed(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("*\n")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / ".backupignore")
    with pytest.raises(RuleError, match="is a symlink"):
        read_rules(str(root))


def test_a_folder_or_fifo_is_refused(tmp_path):
    (tmp_path / ".backupignore").mkdir()
    with pytest.raises(RuleError):
        read_rules(str(tmp_path))
    other = tmp_path / "other"
    other.mkdir()
    os.mkfifo(other / ".backupignore")
    with pytest.raises(RuleError, match="not a regular file"):
        read_rules(str(other))
