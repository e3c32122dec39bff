"""After the copies: does storage hold every file of the backup? (pure comparison)

An acknowledged upload is not always a stored blob: Azurite, killed at the wrong moment,
forgets writes it acknowledged (its metadata database is saved every few seconds), and a
backup that ended Completed would silently lack files. So the run ends by comparing what it
recorded (every stored and every unchanged file, with size and MD5) with one listing of the
blobs under the prefix, metadata included: no download, a few requests for thousands of
files. A file whose blob is missing, or holds another size or Content-MD5, is reported (and
left out of the run's snapshot); the next run's listing sees the same difference and copies
the file again.

Memory stays bounded by a page, whatever the tree: the run's entries arrive in blob-name
order (the walk's order, the unchanged and stored pages merged lazily) and are merge-joined
with the blob listing, which comes in that order too (``rerun.BlobCursor``). Whatever the
merge cannot decide for sure (a name the two orders may sort differently, an entry out of
order because the tree changed during the walk, a listing out of order) is looked up on its
own (``check``: Get Blob Properties), and so is every entry the merge finds no blob for
(a listing out of order shows only once it has been read past the point): nothing is
reported missing on a guess, as a false "missing" would make the report lie and the next run
copy the file again. That costs one request per lost file and none for the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sitebackup import rerun
from sitebackup.manifest import Entry, md5_text
from sitebackup.naming import blob_name
from sitebackup.rerun import BlobLike

T = TypeVar("T")

MAX_LISTED = 20
MISSING = "missing from storage after it was copied"


@dataclass
class Confirmation:
    confirmed: int = 0
    missing: int = 0
    mismatched: int = 0
    lost_bytes: int = 0
    lost_pages: int = 0  # the run's pages naming the lost entries (``layout.LOST_PAGE``)
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
            "lostPages": self.lost_pages,
            "problems": list(self.problems),
        }


def _stored_md5(blob: BlobLike) -> bytes | None:
    settings = blob.content_settings
    md5 = settings.content_md5 if settings else None
    return bytes(md5) if md5 else None


def confirm(
    entries: Iterable[tuple[Entry, T]],
    blobs: Iterable[BlobLike],
    prefix: str,
    check: Callable[[str], BlobLike | None],
    lost: Callable[[Entry, T], None] | None = None,
) -> Confirmation:
    """Compare the run's entries, given in blob-name order with a tag each (where the entry
    came from), with the listed blobs; both stream. ``check(blob name)`` answers for one
    blob (None: there is none) when the merge cannot, or finds none; ``lost(entry, tag)``
    hears of each entry storage does not hold as recorded."""
    cursor = rerun.BlobCursor(blobs, prefix)
    result = Confirmation()
    for entry, tag in entries:
        found = cursor.find(entry.path)
        if found is rerun.UNKNOWN or found is rerun.NO_BLOB:
            # NO_BLOB too: a listing out of order shows only once it is read past the
            # point, so "no blob" is checked before it is reported (one request per file
            # storage lost, none for the others).
            found = check(blob_name(prefix, entry.path))
        if found is None:
            result.missing += 1
            result._report(entry.path, MISSING, entry.size)
        else:
            md5 = _stored_md5(found)
            if found.size == entry.size and md5 == entry.md5:
                result.confirmed += 1
                continue
            result.mismatched += 1
            shown = md5_text(md5) if md5 else "none"
            result._report(
                entry.path,
                f"storage holds {found.size} bytes with MD5 {shown}, not the {entry.size} "
                f"bytes with MD5 {md5_text(entry.md5)} that were copied",
                entry.size,
            )
        if lost is not None:
            lost(entry, tag)
    return result
