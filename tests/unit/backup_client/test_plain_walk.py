"""verify's own walk and blob names, on real trees (links, special files, loops)."""

import os
from pathlib import Path

import pytest

from backup_client.plain_walk import expected_blob_name, expected_prefix, walk_plain
from backup_client.verify import LocalFile, RemoteBlob, compare


def test_regular_files_and_links_inside_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("s")
    root = tmp_path / "site"
    (root / "a" / "b").mkdir(parents=True)
    (root / "index.html").write_text("hi")
    (root / "a" / "b" / "deep.txt").write_text("deep")
    (root / "same.txt").symlink_to(root / "index.html")  # inside: read through the link
    (root / "leak.txt").symlink_to(outside / "secret.txt")
    (root / "away").symlink_to(outside, target_is_directory=True)
    (root / "a" / "loop").symlink_to(root / "a", target_is_directory=True)
    os.mkfifo(root / "pipe")

    tree = walk_plain(root)

    assert {f.rel_path: f.size for f in tree.files} == {
        "index.html": 2,
        "a/b/deep.txt": 4,
        "same.txt": 2,
    }
    assert dict(tree.not_files) == {
        "leak.txt": "a link that leads outside the root",
        "away": "a link to a folder outside the root",
        "pipe": "not a regular file",
    }
    assert tree.unreadable == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every directory")
def test_an_unreadable_folder_is_reported(tmp_path: Path) -> None:
    locked = tmp_path / "site" / "locked"
    locked.mkdir(parents=True)
    (locked / "f.txt").write_text("x")
    locked.chmod(0)
    try:
        tree = walk_plain(tmp_path / "site")
    finally:
        locked.chmod(0o755)
    assert [rel for rel, _ in tree.unreadable] == ["locked"]


def test_names_follow_the_documented_rule(tmp_path: Path) -> None:
    assert expected_prefix(tmp_path / "www", None) == "www"
    assert expected_prefix(tmp_path, "/sites\\www/") == "sites/www"
    assert expected_blob_name("www", "a/b c.txt") == "www/a/b c.txt"
    assert expected_blob_name("", "a.txt") == "a.txt"


def test_a_file_the_backup_left_out_on_purpose_is_excluded_not_missing() -> None:
    files = [LocalFile("kept.txt", 1, "kept.txt"), LocalFile("odd\\name", 1, "odd\\name")]
    files.append(LocalFile("lost.txt", 1, "lost.txt"))
    blobs = {"p/kept.txt": RemoteBlob("p/kept.txt", 1, b"\x01" * 16)}
    reasons = {"odd\\name": "the file name contains a backslash"}
    report = compare(
        files,
        blobs,
        lambda rel: expected_blob_name("p", rel),
        lambda file: b"\x01" * 16,
        left_out=reasons.get,
    )
    assert report.excluded == [("odd\\name", "the file name contains a backslash")]
    assert report.missing == [("lost.txt", "p/lost.txt")]
    assert not report.ok
    assert report.to_json()["excluded"] == [
        {"path": "odd\\name", "reason": "the file name contains a backslash"}
    ]
