"""A snapshot's folder tree from its manifest entries, browsed a page at a time."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

import pytest

from sitebackup.console import tree


@dataclass
class Entry:
    path: str
    size: int
    mtime_ns: int = 0


def test_a_hundred_thousand_files_page_by_page():
    rng = random.Random(3)
    entries = []
    for n in range(100_000):
        depth = rng.randrange(0, 4)
        folders = [f"d{rng.randrange(0, 20)}" for _ in range(depth)]
        entries.append(Entry("/".join([*folders, f"f{n}.txt"]), rng.randrange(0, 5000)))
    rng.shuffle(entries)  # pages come in no particular order
    root = tree.build(entries)

    # Counted independently: files and bytes under each top folder.
    files_under: Counter[str] = Counter()
    bytes_under: Counter[str] = Counter()
    top_files = set()
    for entry in entries:
        head, _, rest = entry.path.partition("/")
        if rest:
            files_under[head] += 1
            bytes_under[head] += entry.size
        else:
            top_files.add(head)

    seen, offset = [], 0
    while offset is not None:
        page = tree.listing(root, "", offset, 200)
        assert len(page["items"]) <= 200
        seen.extend(page["items"])
        offset = page["next"]
    folders = [item for item in seen if item["type"] == "folder"]
    files = [item for item in seen if item["type"] == "file"]
    assert seen == folders + files  # folders first
    assert {f["name"]: (f["files"], f["bytes"]) for f in folders} == {
        name: (files_under[name], bytes_under[name]) for name in files_under
    }
    assert {f["name"] for f in files} == top_files
    assert page["files"] == len(entries)
    assert page["bytes"] == sum(entry.size for entry in entries)


def test_a_nested_folder_and_its_paths():
    root = tree.build([Entry("a/b/c.txt", 3), Entry("a/d.txt", 4), Entry("e.txt", 5)])
    page = tree.listing(root, "/a/", 0, 10)
    assert page["path"] == "a"
    assert [(i["type"], i["path"]) for i in page["items"]] == [
        ("folder", "a/b"),
        ("file", "a/d.txt"),
    ]
    assert page["files"] == 2 and page["bytes"] == 7


@pytest.mark.parametrize("path", ["nope", "a/nope", "e.txt", "a/d.txt"])
def test_folders_that_are_not_there(path):
    root = tree.build([Entry("a/d.txt", 4), Entry("e.txt", 5)])
    with pytest.raises(tree.NotInSnapshot):
        tree.listing(root, path, 0, 10)
