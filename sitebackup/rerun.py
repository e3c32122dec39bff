"""Sorting a listing out against what the container already holds, in bulk.

A re-run of an unchanged tree used to pay one copy activity and one Get Blob Properties
request per file only to learn that nothing changed. One List Blobs with metadata under the
prefix answers the same question for thousands of blobs per request, so the listing sorts
every file into one of three kinds:

- unchanged: the blob's size and ``size``/``mtime`` metadata describe the file and it has a
  Content-MD5 (in ``checksum`` mode the file's MD5 must equal it too). No copy is scheduled;
  the file only counts as skipped.
- new: no blob of that name. The copy may write without looking first.
- to check: anything else (changed, or not decided here). The copy activity compares and
  uploads as before, so a retried or concurrent run stays safe whatever was decided here.

The matching is pure: the blobs come in as an iterable and the file hashing as a function.

Streaming (``BlobCursor`` + ``Sorter``): the walk yields files in blob-name order and List
Blobs returns blobs in that order too, so the two are merged like sorted lists: memory holds
one page of the blob listing at a time, whatever the number of files or blobs. A merge can
only say "no blob" if both sides really are in the same order, so the cursor never claims a
file is new when it cannot be sure (the file then goes to the copy, which looks the blob up
itself):

- names with a character at or above U+E000 are left out of the merge, because code-point
  order (the walk's, UTF-8's) and UTF-16 order (which a service may sort by) differ only
  there;
- a blob listed before one that sorts after it, or a file out of order (a folder swapped
  for a file while the walk ran), stops the "new" claims from there on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sitebackup import metadata
from sitebackup.listing import FileEntry
from sitebackup.manifest import Entry

# Bytes the listing may read to compare checksums. Beyond it the remaining candidates go to
# the copy activities, which hash them in parallel: the listing is one activity and must
# finish well inside the function timeout however large the site.
HASH_BUDGET = 1024 * 1024 * 1024

# What the blob of a listed file tells: its Content-MD5 when size and mtime match the file,
# else MISMATCH. Files without a blob have no entry.
MISMATCH = b""


class ContentSettingsLike(Protocol):
    content_md5: Any


class BlobLike(Protocol):
    """The fields of ``azure.storage.blob.BlobProperties`` a listing item carries."""

    name: str
    size: int
    metadata: dict[str, str] | None
    content_settings: ContentSettingsLike


@dataclass
class Sorted:
    """What the re-run leaves alone and what it finds new, counted."""

    unchanged_count: int = 0
    unchanged_bytes: int = 0
    new_count: int = 0
    bytes_hashed: int = 0


def name_prefix(prefix: str) -> str:
    """What every blob name of the backup starts with (``""`` for an empty prefix)."""
    return f"{prefix}/" if prefix else ""


def _unchanged(
    entry: FileEntry,
    stored_md5: bytes,
    compare: str,
    file_md5: Callable[[FileEntry], bytes | None],
    result: Sorted,
    hash_budget: int,
) -> bool:
    if compare == "mtime":
        return True
    if result.bytes_hashed + entry.size > hash_budget:
        return False
    result.bytes_hashed += entry.size
    return file_md5(entry) == stored_md5


# A file whose blob the merge could not rule out: the copy checks it (never "new").
UNKNOWN = None
# The merge is sure there is no blob of that name.
NO_BLOB = object()
# From here code-point order and UTF-16 order may disagree (see the module docstring).
_ORDER_SAFE_BELOW = "\ue000"


def _order_safe(name: str) -> bool:
    return max(name, default="") < _ORDER_SAFE_BELOW


class BlobCursor:
    """The blobs under the prefix, consumed in step with files given in blob-name order."""

    def __init__(self, blobs: Iterable[BlobLike], prefix: str) -> None:
        self._blobs = iter(blobs)
        self._head = name_prefix(prefix)
        self._current: BlobLike | None = None
        self._last_blob = ""
        self._last_path: str | None = None
        self.trusted = True
        self._advance()

    def _advance(self) -> None:
        for blob in self._blobs:
            name = blob.name
            if not name.startswith(self._head) or not _order_safe(name):
                continue
            if name < self._last_blob:
                self.trusted = False
            self._last_blob = name
            self._current = blob
            return
        self._current = None

    def find(self, path: str) -> Any:
        """The listed blob of ``path``, ``NO_BLOB`` (certainly none), or ``UNKNOWN`` (the
        merge cannot tell: an order-unsafe name, a path out of order, an untrusted listing).
        Paths must come in blob-name order; one out of order is answered ``UNKNOWN``."""
        if not _order_safe(path):
            return UNKNOWN
        if self._last_path is not None and path <= self._last_path:
            # The walk went backwards (the tree changed under it): the cursor cannot.
            self.trusted = False
            return UNKNOWN
        self._last_path = path
        name = self._head + path
        while self._current is not None and self._current.name < name:
            self._advance()
        blob = self._current
        if blob is not None and blob.name == name:
            self._advance()
            return blob
        return NO_BLOB if self.trusted else UNKNOWN

    def lookup(self, entry: FileEntry) -> Any:
        """What the blob of ``entry`` says: its MD5 when size and mtime match, ``MISMATCH``,
        ``NO_BLOB`` (certainly none), or ``UNKNOWN`` (could not tell)."""
        found = self.find(entry.path)
        if found is UNKNOWN or found is NO_BLOB:
            return found
        return describe(found, entry)


def describe(blob: BlobLike, entry: FileEntry) -> bytes:
    """The blob's Content-MD5 if its size and metadata describe ``entry``, else MISMATCH."""
    md5 = blob.content_settings.content_md5 if blob.content_settings else None
    same = blob.size == entry.size and metadata.describes(blob.metadata, entry.size, entry.mtime_ns)
    return bytes(md5) if same and md5 else MISMATCH


NEW, CHANGED, UNCHANGED = "new", "changed", "unchanged"


class Sorter:
    """Sorts files one at a time (``sort_out`` for a stream), keeping only the counts.

    ``lookup`` is ``BlobCursor.lookup``, or None when the container was just created (then
    nothing is marked new: the copies are told once, by ``newContainer``) or, with
    ``all_new``, when it does not exist (a dry run).
    """

    def __init__(
        self,
        lookup: Callable[[FileEntry], Any] | None,
        compare: str,
        file_md5: Callable[[FileEntry], bytes | None],
        *,
        all_new: bool = False,
        hash_budget: int = HASH_BUDGET,
    ) -> None:
        self.lookup, self.compare, self.file_md5 = lookup, compare, file_md5
        self.all_new, self.hash_budget = all_new, hash_budget
        self.counts = Sorted()
        self.to_copy_count = 0
        self.to_copy_bytes = 0

    def sort(self, entry: FileEntry) -> tuple[str, dict[str, Any] | Entry]:
        """(kind, the copy entry for NEW/CHANGED or the snapshot entry for UNCHANGED)."""
        result = self.counts
        if self.lookup is None:
            stored: Any = NO_BLOB if self.all_new else UNKNOWN
        else:
            stored = self.lookup(entry)
        if stored is NO_BLOB:
            result.new_count += 1
            self._copying(entry)
            return NEW, {**entry.to_dict(), "new": True}
        if stored and _unchanged(
            entry, stored, self.compare, self.file_md5, result, self.hash_budget
        ):
            result.unchanged_count += 1
            result.unchanged_bytes += entry.size
            return UNCHANGED, Entry(entry.path, entry.size, entry.mtime_ns, stored)
        self._copying(entry)
        return CHANGED, entry.to_dict()

    def _copying(self, entry: FileEntry) -> None:
        self.to_copy_count += 1
        self.to_copy_bytes += entry.size
