"""The post-copy confirmation: what the run recorded against one listing of the blobs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sitebackup.confirm import MISSING, confirm
from sitebackup.manifest import Entry
from sitebackup.summary import Totals


@dataclass
class Settings:
    content_md5: bytes | None


@dataclass
class Blob:
    name: str
    size: int
    content_settings: Settings
    metadata: dict | None = None


def entry(path: str, content: bytes) -> Entry:
    return Entry(path, len(content), 1, hashlib.md5(content).digest())


def blob(name: str, content: bytes, md5: bytes | None = None) -> Blob:
    return Blob(name, len(content), Settings(md5 or hashlib.md5(content).digest()))


def test_every_entry_is_confirmed_missing_or_different():
    entries = [
        entry("a.txt", b"aaa"),
        entry("d/b.txt", b"bb"),
        entry("c.txt", b"c"),
        entry("e", b""),
    ]
    blobs = [
        blob("www/a.txt", b"aaa"),
        blob("www/d/b.txt", b"XX"),  # same size, other content
        blob("www/other.txt", b"not in this run"),
        blob("www/e", b""),
    ]
    result = confirm(entries, blobs, "www")
    assert (result.confirmed, result.missing, result.mismatched) == (2, 1, 1)
    assert result.lost_bytes == 1 + 2
    problems = {item["path"]: item["error"] for item in result.problems}
    assert problems["c.txt"] == MISSING
    assert "MD5" in problems["d/b.txt"]


def test_a_blob_without_content_md5_is_not_confirmed():
    result = confirm([entry("a", b"x")], [Blob("a", 1, Settings(None))], "")
    assert result.mismatched == 1 and result.confirmed == 0


def test_lost_files_count_as_failed_and_leave_the_backed_up_bytes():
    totals = Totals(
        files_done=3, files_copied=2, files_skipped=1, bytes_done=30, bytes_backed_up=30
    )
    result = confirm([entry("a", b"x" * 10), entry("b", b"y" * 10)], [blob("a", b"x" * 10)], "")
    totals.add_confirmation(result.to_dict())
    assert (totals.files_copied, totals.files_skipped, totals.files_failed) == (1, 1, 1)
    assert totals.bytes_backed_up == 20
    assert totals.failed == [{"path": "b", "error": MISSING}]
    assert (totals.confirmed, totals.lost) == (1, 1)
