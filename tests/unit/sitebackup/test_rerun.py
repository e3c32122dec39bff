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


def stored(prefix: str = "www") -> dict[str, bytes]:
    blobs = [
        blob_of(SAME, b"same", prefix),
        blob_of(TOUCHED, b"tuch", prefix, metadata=metadata.for_file(4, 10)),
        blob_of(EDITED, b"old!", prefix),
        blob_of(NO_MD5, b"nomd", prefix, content_settings=Content(None)),
        # Blobs of files no longer listed, and of another prefix, are ignored.
        Blob(f"{prefix}/gone.txt" if prefix else "gone.txt", 1, None),
        Blob("other/a/same.txt", 4, None),
    ]
    return rerun.match_blobs(blobs, prefix, FILES)


def local_md5(entry: FileEntry) -> bytes | None:
    return md5(CONTENT[entry.path])


def test_blobs_are_matched_to_listed_files_by_name_size_and_mtime():
    found = stored()
    assert found == {
        SAME.path: md5(b"same"),
        TOUCHED.path: rerun.MISMATCH,  # mtime differs
        EDITED.path: md5(b"old!"),
        NO_MD5.path: rerun.MISMATCH,
    }
    # Without a prefix the names are the relative paths; "other/a/same.txt" lists no file.
    assert stored(prefix="") == found


def test_checksum_mode_leaves_only_files_whose_md5_matches():
    result = rerun.sort_out(FILES, stored(), "checksum", local_md5)

    assert (result.unchanged_count, result.unchanged_bytes) == (1, 4)
    assert [entry["path"] for entry in result.to_copy] == [
        NEW.path,
        TOUCHED.path,
        EDITED.path,
        NO_MD5.path,
    ]
    assert result.to_copy[0] == {**NEW.to_dict(), "new": True}
    assert all("new" not in entry for entry in result.to_copy[1:])
    assert result.new_count == 1 and result.bytes_hashed == 8  # SAME and EDITED only


def test_mtime_mode_trusts_size_mtime_and_a_stored_md5_without_reading():
    def never(entry: FileEntry) -> bytes | None:
        raise AssertionError(f"{entry.path} was read in mtime mode")

    result = rerun.sort_out(FILES, stored(), "mtime", never)

    assert result.unchanged_count == 2  # SAME and EDITED (the documented cost of the mode)
    assert [entry["path"] for entry in result.to_copy] == [NEW.path, TOUCHED.path, NO_MD5.path]


def test_past_the_hash_budget_files_are_left_to_the_copy_activity():
    result = rerun.sort_out(FILES, stored(), "checksum", local_md5, hash_budget=4)

    assert result.unchanged_count == 1 and result.bytes_hashed == 4
    assert EDITED.path in [entry["path"] for entry in result.to_copy]


def test_a_file_that_cannot_be_hashed_is_left_to_the_copy_activity():
    result = rerun.sort_out([SAME], stored(), "checksum", lambda entry: None)
    assert result.unchanged_count == 0 and result.to_copy == [SAME.to_dict()]


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
