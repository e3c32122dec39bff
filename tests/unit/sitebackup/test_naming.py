"""Blob names: <prefix>/<relative path>, and what cannot become one."""

from __future__ import annotations

import pytest

from sitebackup import naming
from sitebackup.errors import NamingError


@pytest.mark.parametrize(
    ("prefix", "rel", "expected"),
    [
        ("www", "index.html", "www/index.html"),
        ("www", "a/b/c.txt", "www/a/b/c.txt"),
        ("", "a/b/c.txt", "a/b/c.txt"),
        ("/www/", "/a//b.txt", "www/a/b.txt"),
        ("site/2024", "blog/première note.md", "site/2024/blog/première note.md"),
        ("www", "x y/ü.bin", "www/x y/ü.bin"),
    ],
)
def test_blob_name_joins_prefix_and_relative_path(prefix, rel, expected):
    assert naming.blob_name(prefix, rel) == expected


def test_same_file_name_in_different_folders_gets_different_blobs():
    assert naming.blob_name("p", "a/img/x.png") != naming.blob_name("p", "b/img/x.png")


@pytest.mark.parametrize("rel", ["", "/", "a/../b", "./a", "a/./b"])
def test_blob_name_rejects_paths_that_name_no_file_or_climb(rel):
    with pytest.raises(NamingError):
        naming.blob_name("p", rel)


@pytest.mark.parametrize(
    ("root", "expected"),
    [("/srv/www", "www"), ("/srv/www/", "www"), ("/srv/my site", "my site"), ("/", "")],
)
def test_default_prefix_is_the_root_folder_name(root, expected):
    assert naming.default_prefix(root) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", ""), ("a", "a"), ("/a/b/", "a/b"), ("a\\b", "a/b"), ("a//b", "a/b")],
)
def test_normalize_prefix(raw, expected):
    assert naming.normalize_prefix(raw) == expected


@pytest.mark.parametrize("raw", ["a/../b", "..", "a/./b", "a\x01b", "x" * 600])
def test_normalize_prefix_rejects_unsafe_prefixes(raw):
    with pytest.raises(NamingError):
        naming.normalize_prefix(raw)


def test_blob_name_problems():
    assert naming.blob_name_problem("www/a b/ü.txt") is None
    assert "control characters" in naming.blob_name_problem("www/a\x07b")
    assert "backslash" in naming.blob_name_problem("www/a\\b")
    assert "longer than 1024" in naming.blob_name_problem("www/" + "x" * 1100)
    assert "not valid UTF-8" in naming.blob_name_problem("www/bad\udcff")
    assert "segments" in naming.blob_name_problem("/".join(["d"] * 300))


@pytest.mark.parametrize("name", ["backups", "abc", "a-b-c", "x" * 63, "0day"])
def test_valid_container_names(name):
    assert naming.container_name_problem(name) is None


@pytest.mark.parametrize("name", ["ab", "Backups", "a--b", "-ab", "ab-", "a_b", "x" * 64, ""])
def test_invalid_container_names(name):
    assert naming.container_name_problem(name)
