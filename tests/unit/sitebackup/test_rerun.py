"""Sorting a listing out against the stored blobs (pure), and hashing listed files."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from sitebackup import metadata, rerun
from sitebackup.listing import FileEntry
from sitebackup.rootfs import RootDir
from sitebackup.upload import file_md5


@dataclass
class Content:
    content_md5: bytearray | None


@dataclass
class Blob:
    """The fields a List Blobs item carries, as ``BlobProperties`` has them."""

    name: str
    size: int
    metadata: dict[str, str] | None
    content_settings: Content = field(default_factory=lambda: Content(None))


def md5(data: bytes) -> bytes:
    return hashlib.md5(data).digest()


def blob_of(entry: FileEntry, content: bytes, prefix: str = "www", **changes) -> Blob:
    blob = Blob(
        name=f"{prefix}/{entry.path}" if prefix else entry.path,
        size=entry.size,
        metadata=metadata.for_file(entry.size, entry.mtime_ns),
        content_settings=Content(bytearray(md5(content))),
    )
    for key, value in changes.items():
        setattr(blob, key, value)
    return blob


SAME = FileEntry("a/same.txt", 4, 10)
NEW = FileEntry("a/new.txt", 3, 10)
TOUCHED = FileEntry("b/touched.txt", 4, 20)
EDITED = FileEntry("b/edited.txt", 4, 10)  # same size and mtime, other content
NO_MD5 = FileEntry("c/no-md5.txt", 4, 10)
FILES = [SAME, NEW, TOUCHED, EDITED, NO_MD5]
CONTENT = {SAME.path: b"same", TOUCHED.path: b"tuch", EDITED.path: b"new!", NO_MD5.path: b"nomd"}


def blobs(prefix: str = "www") -> list[Blob]:
    """The container's blobs in the order List Blobs returns them (by name)."""
    items = [
        blob_of(SAME, b"same", prefix),
        blob_of(TOUCHED, b"tuch", prefix, metadata=metadata.for_file(4, 10)),
        blob_of(EDITED, b"old!", prefix),
        blob_of(NO_MD5, b"nomd", prefix, content_settings=Content(None)),
        # Blobs of files no longer listed, and of another prefix, are passed over.
        Blob(f"{prefix}/gone.txt" if prefix else "gone.txt", 1, None),
        Blob("other/a/same.txt", 4, None),
    ]
    return sorted(items, key=lambda blob: blob.name)


def lookups(prefix: str = "www") -> dict[str, object]:
    cursor = rerun.BlobCursor(blobs(prefix), prefix)
    return {entry.path: cursor.lookup(entry) for entry in sorted(FILES, key=lambda e: e.path)}


def sort_out(compare, file_md5, **options) -> tuple[rerun.Sorter, list[tuple[str, object]]]:
    sorter = rerun.Sorter(rerun.BlobCursor(blobs(), "www").lookup, compare, file_md5, **options)
    ordered = sorted(FILES, key=lambda e: e.path)
    return sorter, [sorter.sort(entry) for entry in ordered]


def copied(sorted_files) -> list[str]:
    return [item["path"] for kind, item in sorted_files if kind != rerun.UNCHANGED]


def local_md5(entry: FileEntry) -> bytes | None:
    return md5(CONTENT[entry.path])


def test_blobs_are_merged_with_files_by_name_size_and_mtime():
    found = lookups()
    assert found == {
        SAME.path: md5(b"same"),
        NEW.path: found[NEW.path],
        TOUCHED.path: rerun.MISMATCH,  # mtime differs
        EDITED.path: md5(b"old!"),
        NO_MD5.path: rerun.MISMATCH,
    }
    assert found[NEW.path] is rerun.NO_BLOB
    # Without a prefix the names are the relative paths; "other/a/same.txt" lists no file.
    assert lookups(prefix="") == found


def test_checksum_mode_leaves_only_files_whose_md5_matches():
    sorter, result = sort_out("checksum", local_md5)

    counts = sorter.counts
    assert (counts.unchanged_count, counts.unchanged_bytes) == (1, 4)
    assert copied(result) == [NEW.path, EDITED.path, TOUCHED.path, NO_MD5.path]
    assert result[0] == (rerun.NEW, {**NEW.to_dict(), "new": True})
    assert all("new" not in item for kind, item in result[1:] if kind != rerun.UNCHANGED)
    assert counts.new_count == 1 and counts.bytes_hashed == 8  # SAME and EDITED only
    assert (sorter.to_copy_count, sorter.to_copy_bytes) == (4, 15)


def test_mtime_mode_trusts_size_mtime_and_a_stored_md5_without_reading():
    def never(entry: FileEntry) -> bytes | None:
        raise AssertionError(f"{entry.path} was read in mtime mode")

    sorter, result = sort_out("mtime", never)

    assert sorter.counts.unchanged_count == 2  # SAME and EDITED (the documented cost)
    assert copied(result) == [NEW.path, TOUCHED.path, NO_MD5.path]


def test_past_the_hash_budget_files_are_left_to_the_copy_activity():
    sorter, result = sort_out("checksum", local_md5, hash_budget=4)

    assert sorter.counts.unchanged_count == 1 and sorter.counts.bytes_hashed == 4
    assert EDITED.path in copied(result)


def test_a_file_that_cannot_be_hashed_is_left_to_the_copy_activity():
    sorter = rerun.Sorter(rerun.BlobCursor(blobs(), "www").lookup, "checksum", lambda e: None)
    assert sorter.sort(SAME) == (rerun.CHANGED, SAME.to_dict())


def test_the_merge_never_claims_new_when_the_orders_disagree():
    # A file out of order (the tree changed under the walk): the copy must look it up.
    cursor = rerun.BlobCursor(blobs(), "www")
    assert cursor.lookup(TOUCHED) is rerun.MISMATCH
    assert cursor.lookup(FileEntry("a/late.txt", 1, 1)) is rerun.UNKNOWN
    assert cursor.lookup(FileEntry("z/after.txt", 1, 1)) is rerun.UNKNOWN
    # Blobs listed out of order (a service sorting otherwise): no more "new" claims.
    unordered = [Blob("www/b", 1, None), Blob("www/a", 1, None)]
    cursor = rerun.BlobCursor(unordered, "www")
    assert cursor.lookup(FileEntry("b", 1, 1)) is rerun.MISMATCH
    assert cursor.lookup(FileEntry("c", 1, 1)) is rerun.UNKNOWN
    # Names where code-point and UTF-16 order differ stay out of the merge.
    cursor = rerun.BlobCursor([Blob("www/\U0001f600", 1, None)], "www")
    assert cursor.lookup(FileEntry("\ue000", 1, 1)) is rerun.UNKNOWN
    assert cursor.lookup(FileEntry("\U0001f600", 1, 1)) is rerun.UNKNOWN


def test_the_merge_matches_a_large_random_tree_as_a_lookup_would():
    import random

    rng = random.Random(3)
    names = sorted(
        {
            "/".join(rng.choice("ab-/.c") for _ in range(rng.randint(1, 8))).strip("/") or "x"
            for _ in range(3000)
        }
    )
    files = [FileEntry(name, 1, 1) for name in names if "//" not in name]
    stored = {entry.path for entry in files if rng.random() < 0.5} | {"zz-gone", "a-gone"}
    listing = [
        Blob(f"p/{path}", 1, metadata.for_file(1, 1), Content(bytearray(md5(b"x"))))
        for path in sorted(stored)
    ]
    cursor = rerun.BlobCursor(listing, "p")
    for entry in files:
        expected = md5(b"x") if entry.path in stored else rerun.NO_BLOB
        assert cursor.lookup(entry) == expected, entry.path


def test_file_md5_reads_the_listed_file_and_refuses_another(tmp_path):
    root = RootDir(str(tmp_path))
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 5000)
    info = path.stat()

    assert file_md5(root, "f.bin", 5000, info.st_mtime_ns) == md5(b"x" * 5000)
    assert file_md5(root, "f.bin", 4999, info.st_mtime_ns) is None  # not the listed size
    assert file_md5(root, "f.bin", 5000, info.st_mtime_ns + 1) is None  # touched since
    assert file_md5(root, "missing.bin", 1, 1) is None
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.write_bytes(b"secret")
    os.symlink(outside, tmp_path / "link")
    assert file_md5(root, "link", 6, outside.stat().st_mtime_ns) is None
