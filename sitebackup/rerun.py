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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
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
    """The files to copy (as activity entries) and what the re-run leaves alone."""

    to_copy: list[dict[str, Any]] = field(default_factory=list)
    # The unchanged files as the snapshot lists them (the MD5 is the blob's Content-MD5).
    unchanged: list[Entry] = field(default_factory=list)
    unchanged_count: int = 0
    unchanged_bytes: int = 0
    new_count: int = 0
    bytes_hashed: int = 0


def name_prefix(prefix: str) -> str:
    """What every blob name of the backup starts with (``""`` for an empty prefix)."""
    return f"{prefix}/" if prefix else ""


def match_blobs(
    blobs: Iterable[BlobLike], prefix: str, files: Sequence[FileEntry]
) -> dict[str, bytes]:
    """For each listed file that has a blob: its Content-MD5 if size and mtime match, else
    ``MISMATCH``. Keyed by the file's relative path.

    The blobs are consumed as they stream in (the SDK pages them), and only those of listed
    files are kept, as one short bytes value each, so a 100,000-file tree costs a few MB.
    """
    by_path = {entry.path: entry for entry in files}
    head = name_prefix(prefix)
    found: dict[str, bytes] = {}
    for blob in blobs:
        if not blob.name.startswith(head):
            continue
        entry = by_path.get(blob.name[len(head) :])
        if entry is None:
            continue
        md5 = blob.content_settings.content_md5 if blob.content_settings else None
        same = blob.size == entry.size and metadata.describes(
            blob.metadata, entry.size, entry.mtime_ns
        )
        found[entry.path] = bytes(md5) if same and md5 else MISMATCH
    return found


def sort_out(
    files: Sequence[FileEntry],
    stored: dict[str, bytes],
    compare: str,
    file_md5: Callable[[FileEntry], bytes | None],
    hash_budget: int = HASH_BUDGET,
) -> Sorted:
    """Sort the listed files (kept in order) by what ``stored`` says of their blobs.

    ``file_md5`` returns a file's MD5, or None when it could not be read still (the copy
    activity then deals with it and reports why).
    """
    result = Sorted()
    for entry in files:
        md5 = stored.get(entry.path)
        if md5 is None:
            result.new_count += 1
            result.to_copy.append({**entry.to_dict(), "new": True})
            continue
        if md5 and _unchanged(entry, md5, compare, file_md5, result, hash_budget):
            result.unchanged_count += 1
            result.unchanged_bytes += entry.size
            result.unchanged.append(Entry(entry.path, entry.size, entry.mtime_ns, md5))
            continue
        result.to_copy.append(entry.to_dict())
    return result


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
