"""The snapshot manifest: its data types and their encoding (pure, no I/O).

Every backup run that ends (completely, or with some files reported as failed) leaves one
snapshot of the tree as that run saw it. A snapshot is two kinds of blob in the meta
container (see ``sitebackup.layout``):

**Header**, ``<dest>/snapshots/<key>.json``, written last, in one put: plain UTF-8 JSON::

    {"format": "sitebackup-snapshot/1",
     "runId": "20261129T231500Z-1a2b3c4d",       # unique per run
     "root": "/srv/www", "container": "backups", "prefix": "www",
     "startedMs": 1764458100000, "endedMs": 1764458160000,   # ms since the epoch, UTC
     "files": 1200, "bytes": 73400320,           # what the snapshot lists
     "failed": 2,                                # files the run could not store (not listed)
     "added": 10, "changed": 3, "deleted": 1,    # against the previous snapshot; null if none
     "previousRunId": "20261128T231500Z-...",    # or null
     "pages": [{"name": "backups/www/runs/<run id>/unchanged-00000.jsonl.gz", "count": 5000},
               {"name": "backups/www/runs/<run id>/stored-00000.jsonl.gz", "count": 500}, ...]}

``<dest>`` is ``layout.destination_folder(container, prefix)``; the key starts with the
inverted end time, so a plain listing of ``<dest>/snapshots/`` returns the newest first. A
header exists only for a run that reached its end: a failed or terminated run leaves pages
under ``runs/<run id>/`` and no header, so it is not a snapshot. Readers reject a header whose
``format`` they do not know.

**Entry pages**, named in the header (blob names in the meta container), each a gzip of
JSON lines, one file per line. The pages a run writes come in two kinds (``unchanged`` and
``stored``, the name tells: ``layout.entry_page_kind``); the pages of one kind, in header
order, list their files in path order (the walk's), which lets readers merge a snapshot in
path order a page at a time (a page of no known kind is read as a run of its own)::

    {"path": "css/site.css", "size": 21, "mtimeNs": 1700000000123456789,
     "md5": "1B2M2Y8AsgTpgAmY7PhCfg=="}

``path`` is relative to the root with ``/`` separators (the blob is ``<prefix>/<path>``, or
``<path>`` for an empty prefix), ``size`` in bytes, ``mtimeNs`` the file's modification time
in integer nanoseconds since the epoch (any integer: times before 1970 or after 9999 are
fine), ``md5`` the base64 MD5 of the content, as the blob's Content-MD5 shows it. The
header's ``files`` equals the sum of its pages' ``count``.

**Where an entry's content is.** The content with that MD5 of blob ``<prefix>/<path>`` in
``container``: the base blob while its Content-MD5 still equals ``md5``; once a later run
changed the file, the blob snapshot of that blob with this Content-MD5 (the backup takes a
snapshot of a blob before it overwrites it with different content). When several snapshots
hold the same MD5, the newest one is used (prune keeps exactly that one). Entries carry no
snapshot id because the snapshot is taken later, by the run that overwrites the blob.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sitebackup.errors import BackupError

FORMAT = "sitebackup-snapshot/1"
# Files per entry page: a page is one request to read, a few hundred KB at most.
PAGE_ENTRIES = 5000


class ManifestError(BackupError, ValueError):
    """A manifest header or page is malformed or of an unknown format."""


def md5_text(digest: bytes) -> str:
    """An MD5 as the service shows Content-MD5: base64 of the 16 bytes."""
    return base64.b64encode(digest).decode("ascii")


def md5_bytes(text: str) -> bytes:
    try:
        digest = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ManifestError(f"md5 {text[:40]!r} is not base64") from None
    if len(digest) != 16:
        raise ManifestError(f"md5 {text[:40]!r} is not 16 bytes")
    return digest


def _int(value: dict[str, Any], key: str, *, minimum: int | None = 0) -> int:
    item = value.get(key)
    if isinstance(item, bool) or not isinstance(item, int):
        raise ManifestError(f"{key!r} must be an integer, got {str(item)[:40]!r}")
    if minimum is not None and item < minimum:
        raise ManifestError(f"{key!r} must be at least {minimum}, got {item}")
    return item


def _optional_int(value: dict[str, Any], key: str) -> int | None:
    return None if value.get(key) is None else _int(value, key)


def _str(value: dict[str, Any], key: str, *, empty: bool = False) -> str:
    item = value.get(key)
    if not isinstance(item, str) or (not item and not empty):
        raise ManifestError(f"{key!r} must be a {'' if empty else 'non-empty '}string")
    return item


@dataclass(frozen=True)
class Entry:
    """One file of a snapshot."""

    path: str
    size: int
    mtime_ns: int
    md5: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "mtimeNs": self.mtime_ns,
            "md5": md5_text(self.md5),
        }

    @classmethod
    def from_json(cls, value: Any) -> Entry:
        if not isinstance(value, dict):
            raise ManifestError(f"an entry must be an object, got {str(value)[:60]!r}")
        return cls(
            path=_str(value, "path"),
            size=_int(value, "size"),
            mtime_ns=_int(value, "mtimeNs", minimum=None),
            md5=md5_bytes(_str(value, "md5")),
        )


@dataclass(frozen=True)
class PageRef:
    """A page of entries: its blob name in the meta container and how many entries it holds."""

    name: str
    count: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "count": self.count}

    @classmethod
    def from_json(cls, value: Any) -> PageRef:
        if not isinstance(value, dict):
            raise ManifestError("a page reference must be an object with 'name' and 'count'")
        return cls(name=_str(value, "name"), count=_int(value, "count"))


@dataclass(frozen=True)
class Changes:
    """How a snapshot differs from the one before it (by path, and MD5 for 'changed')."""

    added: int = 0
    changed: int = 0
    deleted: int = 0


@dataclass(frozen=True)
class Header:
    """A snapshot's header (see the module docstring for the JSON)."""

    run_id: str
    root: str
    container: str
    prefix: str
    started_ms: int
    ended_ms: int
    files: int
    bytes: int
    failed: int = 0
    changes: Changes | None = None
    previous_run_id: str | None = None
    pages: tuple[PageRef, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        changes = self.changes
        return {
            "format": FORMAT,
            "runId": self.run_id,
            "root": self.root,
            "container": self.container,
            "prefix": self.prefix,
            "startedMs": self.started_ms,
            "endedMs": self.ended_ms,
            "files": self.files,
            "bytes": self.bytes,
            "failed": self.failed,
            "added": changes.added if changes else None,
            "changed": changes.changed if changes else None,
            "deleted": changes.deleted if changes else None,
            "previousRunId": self.previous_run_id,
            "pages": [page.to_json() for page in self.pages],
        }

    @classmethod
    def from_json(cls, value: Any) -> Header:
        if not isinstance(value, dict):
            raise ManifestError("a snapshot header must be a JSON object")
        if value.get("format") != FORMAT:
            raise ManifestError(
                f"unknown snapshot format {str(value.get('format'))[:60]!r} (this version "
                f"reads {FORMAT!r})"
            )
        pages = value.get("pages")
        if not isinstance(pages, list):
            raise ManifestError("'pages' must be a list")
        counts = [_optional_int(value, key) for key in ("added", "changed", "deleted")]
        previous = value.get("previousRunId")
        if previous is not None and not isinstance(previous, str):
            raise ManifestError("'previousRunId' must be a string or null")
        header = cls(
            run_id=_str(value, "runId"),
            root=_str(value, "root"),
            container=_str(value, "container"),
            prefix=_str(value, "prefix", empty=True),
            started_ms=_int(value, "startedMs"),
            ended_ms=_int(value, "endedMs"),
            files=_int(value, "files"),
            bytes=_int(value, "bytes"),
            failed=_int(value, "failed"),
            changes=None if None in counts else Changes(*counts),  # type: ignore[arg-type]
            previous_run_id=previous,
            pages=tuple(PageRef.from_json(page) for page in pages),
        )
        if sum(page.count for page in header.pages) != header.files:
            raise ManifestError("the pages' counts do not add up to 'files'")
        return header


def encode_header(header: Header) -> bytes:
    return json.dumps(header.to_json(), ensure_ascii=False, indent=1).encode("utf-8")


def decode_header(data: bytes) -> Header:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"a snapshot header is not JSON: {exc}") from None
    return Header.from_json(value)


def encode_lines(items: Iterable[dict[str, Any]]) -> bytes:
    """JSON lines, gzipped; ``mtime=0`` so the same page always gives the same bytes (a
    re-run activity rewrites an identical blob)."""
    text = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def decode_lines(data: bytes) -> Iterator[dict[str, Any]]:
    try:
        text = gzip.decompress(data).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ManifestError(f"a page is not gzipped UTF-8 JSON lines: {exc}") from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"line {number} of a page is not JSON: {exc.msg}") from None
        if not isinstance(item, dict):
            raise ManifestError(f"line {number} of a page is not a JSON object")
        yield item


def encode_entries(entries: Iterable[Entry]) -> bytes:
    return encode_lines(entry.to_json() for entry in entries)


def decode_entries(data: bytes) -> list[Entry]:
    return [Entry.from_json(item) for item in decode_lines(data)]


def stored_entry(result: Any) -> dict[str, Any] | None:
    """The entry (JSON) of a copy activity's result, when the file is now stored: copied or
    skipped, with the MD5 and mtime of what its blob holds. None otherwise (a failed file is
    not in the snapshot)."""
    if not isinstance(result, dict) or result.get("status") not in ("copied", "skipped"):
        return None
    fields = {"path": "path", "size": "bytes", "mtimeNs": "mtimeNs", "md5": "md5"}
    try:
        return Entry.from_json(
            {key: result.get(source) for key, source in fields.items()}
        ).to_json()
    except ManifestError:
        return None


def changes_between(previous: Iterable[Entry], current: Iterable[Entry]) -> Changes:
    """Added, changed (same path, other MD5) and deleted paths from one snapshot to the next.

    Both snapshots stream in path order (``run_streams.by_path`` over their sorted runs) and
    are merge-joined, so memory holds one entry of each, whatever their size. The counts are
    informational; when a side is out of order (the tree changed while a run walked it) they
    stay consistent (``added`` + paths in both = the current count, ``deleted`` + paths in
    both = the previous count) but a path met out of order may count as added and deleted
    rather than as changed or the same.
    """
    before, after = iter(previous), iter(current)
    old, new = next(before, None), next(after, None)
    added = changed = deleted = 0
    while old is not None and new is not None:
        if old.path == new.path:
            changed += old.md5 != new.md5
            old, new = next(before, None), next(after, None)
        elif old.path < new.path:
            deleted += 1
            old = next(before, None)
        else:
            added += 1
            new = next(after, None)
    while old is not None:
        deleted += 1
        old = next(before, None)
    while new is not None:
        added += 1
        new = next(after, None)
    return Changes(added=added, changed=changed, deleted=deleted)
