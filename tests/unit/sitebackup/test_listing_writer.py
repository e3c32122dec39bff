"""The listing's page writer: pages written as they fill, the same as cutting the whole list."""

from __future__ import annotations

import pytest

from sitebackup import layout, manifest, plan
from sitebackup.manifest import Entry
from sitebackup.run_pages import ListingWriter


class MemoryStore:
    """The two methods of ``SnapshotStore`` the writer uses, recording the order of writes."""

    container, prefix = "backups", "www"

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}

    def ensure(self) -> None:
        pass

    def write_page(self, name: str, data: bytes) -> None:
        self.pages[name] = data


def page(store: MemoryStore, kind: str, index: int) -> list[dict]:
    name = layout.run_page(store.container, store.prefix, "run1", kind, index)
    return list(manifest.decode_lines(store.pages[name]))


@pytest.mark.parametrize("count", [0, 1, 49, 120, 800, 8000, 8001, 20_011])
def test_copy_pages_are_the_partitions_of_the_whole_list(count):
    store = MemoryStore()
    writer = ListingWriter(store, "run1", 500)
    files = [{"path": f"f{i:06d}", "size": i, "mtimeNs": 1} for i in range(count)]
    most_held = 0
    for entry in files:
        writer.add_copy(entry)
        most_held = max(most_held, len(writer._copy))
    partitions, unchanged_pages = writer.close()

    expected = plan.partitions(files, 500)
    assert (partitions, unchanged_pages) == (len(expected), 0)
    assert [page(store, layout.COPY_PAGE, i) for i in range(partitions)] == expected
    # Held: at most the entries that decide the partition size, never the whole tree.
    assert most_held <= plan.TARGET_PARTITIONS * 500


def test_unchanged_pages_are_written_as_they_fill():
    store = MemoryStore()
    writer = ListingWriter(store, "run1", 500)
    count = manifest.PAGE_ENTRIES * 2 + 3
    for i in range(count):
        writer.add_unchanged(Entry(f"u{i:06d}", 1, 1, b"0" * 16))
        if i == manifest.PAGE_ENTRIES:
            assert len(store.pages) == 1  # the first page is out before the walk ends
    assert writer.close() == (0, 3)
    read = [page(store, layout.UNCHANGED_PAGE, i) for i in range(3)]
    assert [len(p) for p in read] == [manifest.PAGE_ENTRIES, manifest.PAGE_ENTRIES, 3]
    assert read[2][-1]["path"] == f"u{count - 1:06d}"
