"""Walking a backup root: order, symlinks, special files, unreadable folders, odd names."""

from __future__ import annotations

import os

import pytest

from sitebackup.listing import MAX_SKIPPED_LISTED, list_tree, new_listing, walk_tree
from sitebackup.rootfs import RootDir
from sitebackup.rules import RuleSet


def make(root, files):
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def reasons(listing) -> dict[str, str]:
    return {entry["path"]: entry["reason"] for entry in listing.skipped}


def test_files_come_sorted_by_path_with_size_and_mtime(tmp_path):
    make(
        tmp_path,
        {
            "z.txt": b"zz",
            "a/b/c.txt": b"c",
            "a/a.txt": b"",
            "m y/ü.txt": "ü".encode(),
            "a/img/x.png": b"1",
            "b/img/x.png": b"22",
        },
    )
    listing = list_tree(str(tmp_path), "www")
    assert [f.path for f in listing.files] == [
        "a/a.txt",
        "a/b/c.txt",
        "a/img/x.png",
        "b/img/x.png",
        "m y/ü.txt",
        "z.txt",
    ]
    first = listing.files[0]
    assert first.size == 0 and first.mtime_ns == os.stat(tmp_path / "a/a.txt").st_mtime_ns
    assert listing.bytes_total == 0 + 1 + 1 + 2 + 2 + 2
    assert listing.skipped_count == 0
    as_dict = listing.to_dict()
    assert as_dict["files"][1] == {
        "path": "a/b/c.txt",
        "size": 1,
        "mtimeNs": listing.files[1].mtime_ns,
    }
    assert as_dict["filesTotal"] == 6 and as_dict["bytesTotal"] == 8


def test_an_empty_tree(tmp_path):
    listing = list_tree(str(tmp_path))
    assert listing.files == [] and listing.skipped == []


def test_symlinks(tmp_path):
    root = tmp_path / "root"
    make(root, {"real/file.txt": b"data", "other.txt": b"o"})
    (tmp_path / "secret.txt").write_text("secret")
    (root / "inside-file").symlink_to(root / "real/file.txt")
    (root / "inside-dir").symlink_to(root / "real")
    (root / "escape-file").symlink_to(tmp_path / "secret.txt")
    (root / "escape-dir").symlink_to(tmp_path)
    (root / "relative-escape").symlink_to("../secret.txt")
    (root / "broken").symlink_to(root / "nothing")
    (root / "loop1").symlink_to(root / "loop2")
    (root / "loop2").symlink_to(root / "loop1")

    listing = list_tree(str(root), "p")

    paths = [f.path for f in listing.files]
    assert paths == ["inside-file", "other.txt", "real/file.txt"]
    assert listing.files[0].size == 4  # the target's content is what gets copied
    why = reasons(listing)
    assert "outside the backup root" in why["escape-file"]
    assert "outside the backup root" in why["escape-dir"]
    assert "outside the backup root" in why["relative-escape"]
    assert "symlink to a directory" in why["inside-dir"]
    assert "broken symlink" in why["broken"]
    assert why["loop1"] == why["loop2"] == "symlink loop"
    assert listing.skipped_count == 7


def test_special_files_are_skipped(tmp_path):
    make(tmp_path, {"ok.txt": b"1"})
    os.mkfifo(tmp_path / "pipe")
    listing = list_tree(str(tmp_path))
    assert [f.path for f in listing.files] == ["ok.txt"]
    assert reasons(listing) == {"pipe": "special file: a named pipe"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every directory")
def test_unreadable_directories_are_reported(tmp_path):
    make(tmp_path, {"locked/x.txt": b"1", "open/y.txt": b"2"})
    (tmp_path / "locked").chmod(0)
    try:
        listing = list_tree(str(tmp_path))
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert [f.path for f in listing.files] == ["open/y.txt"]
    assert "cannot read directory" in reasons(listing)["locked"]


def test_names_that_cannot_be_blob_names_are_reported(tmp_path):
    make(tmp_path, {"fine.txt": b"1", "back\\slash.txt": b"2", "bell\x07.txt": b"3"})
    bad = os.fsencode(str(tmp_path)) + b"/latin1-\xe9.txt"
    with open(bad, "wb") as handle:
        handle.write(b"4")
    listing = list_tree(str(tmp_path))
    assert [f.path for f in listing.files] == ["fine.txt"]
    why = reasons(listing)
    assert "backslash" in why["back\\slash.txt"]
    assert "control characters" in why["bell\x07.txt"]
    (undecodable,) = [path for path in why if path.startswith("latin1-")]
    assert "not valid UTF-8" in why[undecodable]
    undecodable.encode("utf-8")  # reported in a form that survives JSON and logs


def test_a_too_long_blob_name_is_reported(tmp_path):
    deep = tmp_path
    for _ in range(6):
        deep = deep / ("d" * 200)
    deep.mkdir(parents=True)
    (deep / "f.txt").write_text("x")
    listing = list_tree(str(tmp_path), "prefix")
    assert listing.files == []
    assert "longer than 1024" in listing.skipped[0]["reason"]


def test_the_skipped_sample_is_bounded_but_the_count_is_exact(tmp_path):
    for i in range(MAX_SKIPPED_LISTED + 25):
        (tmp_path / f"link{i:04d}").symlink_to("/")
    listing = list_tree(str(tmp_path))
    assert listing.skipped_count == MAX_SKIPPED_LISTED + 25
    assert len(listing.skipped) == MAX_SKIPPED_LISTED


def test_deep_trees_do_not_hit_the_recursion_limit(tmp_path):
    deep = tmp_path
    for _ in range(60):
        deep = deep / "d"
    deep.mkdir(parents=True)
    (deep / "leaf.txt").write_text("x")
    listing = list_tree(str(tmp_path))
    assert listing.files[0].path == "/".join(["d"] * 60 + ["leaf.txt"])


def test_rules_prune_excluded_folders_without_entering_them(tmp_path):
    make(tmp_path, {"keep.html": b"k", "a.log": b"l", "node_modules/x/y.js": b"j"})
    # What the walk would report if it entered the folder: a FIFO and a link loop.
    os.mkfifo(tmp_path / "node_modules" / "pipe")
    os.symlink("loop", tmp_path / "node_modules" / "loop")
    rules = RuleSet.build(exclude=["node_modules/", "*.log"])
    listing = list_tree(str(tmp_path), "p", rules)
    assert [entry.path for entry in listing.files] == ["keep.html"]
    assert listing.skipped == [] and listing.skipped_count == 0
    report = listing.to_dict()["rules"]
    assert (report["excludedFiles"], report["excludedDirs"]) == (1, 1)


def test_without_rules_the_listing_reports_no_exclusions(tmp_path):
    make(tmp_path, {"a.log": b"l"})
    report = list_tree(str(tmp_path)).to_dict()["rules"]
    assert report == {
        "rulesTotal": 0,
        "rulesMatched": 0,
        "excludedFiles": 0,
        "excludedDirs": 0,
        "matched": [],
    }


def test_the_walk_yields_paths_in_blob_name_order(tmp_path):
    # '-' and '.' sort before '/': a folder's files come after 'a-b' and 'a.txt', as the
    # blob listing has them, so the listing can merge the two in one pass.
    for rel in ["a/x", "a/y/z", "a-b", "a.txt", "b", "a0/c", "A/q"]:
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rel)
    paths = [entry.path for entry in list_tree(str(tmp_path)).files]
    assert paths == sorted(paths)
    assert set(paths) == {"a/x", "a/y/z", "a-b", "a.txt", "b", "a0/c", "A/q"}


def test_the_walk_streams_and_counts_as_it_goes(tmp_path):
    for i in range(5):
        (tmp_path / f"f{i}").write_bytes(b"x" * i)
    with RootDir(str(tmp_path)) as root:
        listing = new_listing(root)
        walk = walk_tree(root, listing)
        first = next(walk)
        assert (first.path, listing.files_total, listing.bytes_total) == ("f0", 1, 0)
        assert [entry.path for entry in walk] == ["f1", "f2", "f3", "f4"]
    assert (listing.files_total, listing.bytes_total, listing.files) == (5, 10, [])
