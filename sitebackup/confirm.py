"""After the copies: does storage hold every file of the backup? (pure comparison)

An acknowledged upload is not always a stored blob: Azurite, killed at the wrong moment,
forgets writes it acknowledged (its metadata database is saved every few seconds), and a
backup that ended Completed would silently lack files. So the run ends by comparing what it
recorded (every stored and every unchanged file, with size and MD5) with one listing of the
blobs under the prefix, metadata included: no download, a few requests for thousands of
files. A file whose blob is missing, or holds another size or Content-MD5, is reported; the
next run's listing sees the same difference and copies the file again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sitebackup.manifest import Entry, md5_text
from sitebackup.naming import blob_name
from sitebackup.rerun import BlobLike

MAX_LISTED = 20
MISSING = "missing from storage after it was copied"


@dataclass
class Confirmation:
    confirmed: int = 0
    missing: int = 0
    mismatched: int = 0
    lost_bytes: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.missing + self.mismatched

    def _report(self, path: str, problem: str, size: int) -> None:
        self.lost_bytes += size
        if len(self.problems) < MAX_LISTED:
            self.problems.append({"path": path, "error": problem})

    def to_dict(self) -> dict[str, Any]:
        return {
            "confirmed": self.confirmed,
            "missing": self.missing,
            "mismatched": self.mismatched,
            "lostBytes": self.lost_bytes,
            "problems": list(self.problems),
        }


def _stored_md5(blob: BlobLike) -> bytes | None:
    settings = blob.content_settings
    md5 = settings.content_md5 if settings else None
    return bytes(md5) if md5 else None


def confirm(entries: Iterable[Entry], blobs: Iterable[BlobLike], prefix: str) -> Confirmation:
    """Compare the run's entries with the listed blobs (the blobs stream; only the entries
    are held, one per file of the run)."""
    expected = {blob_name(prefix, entry.path): entry for entry in entries}
    result = Confirmation()
    for blob in blobs:
        entry = expected.pop(blob.name, None)
        if entry is None:
            continue
        md5 = _stored_md5(blob)
        if blob.size == entry.size and md5 == entry.md5:
            result.confirmed += 1
            continue
        result.mismatched += 1
        shown = md5_text(md5) if md5 else "none"
        result._report(
            entry.path,
            f"storage holds {blob.size} bytes with MD5 {shown}, not the {entry.size} bytes "
            f"with MD5 {md5_text(entry.md5)} that were copied",
            entry.size,
        )
    for entry in expected.values():
        result.missing += 1
        result._report(entry.path, MISSING, entry.size)
    return result
