"""Restore one file: stream its stored content into a temporary file beside it, check, rename.

The order is what makes a restore crash-safe and resumable:

1. the name is checked (``names``) and its folder opened without following links (``target``);
2. an existing file is compared first: identical (size + MD5) means nothing to do;
3. the content is streamed with bounded memory into ``<folder>/<temporary name>``, created
   with ``O_EXCL | O_NOFOLLOW`` (a stale one from a crashed attempt is removed first);
4. size and MD5 of what arrived are checked against the manifest, the mtime is set on the
   temporary file, which is flushed to disk (``fsync``), and only then is it renamed over the
   real name, in one step;
5. the folder is flushed (``fsync`` on its handle), so the rename survives a power cut too.

A crash at any point, of the host or of the machine, leaves either the old file or the
complete new one under the real name, plus at most a temporary file the next attempt (or the
final sweep) removes; once a file is reported restored, it is on disk.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import AzureError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import BlobClient, ContainerClient, StorageStreamDownloader

from sitebackup import snapshot_store
from sitebackup.errors import BackupError, NamingError, echo
from sitebackup.manifest import Entry
from sitebackup.naming import blob_name
from sitebackup.restore import names, target
from sitebackup.storage import describe, failure, is_file_specific

log = logging.getLogger(__name__)

RESTORED = "restored"
SKIPPED = "skipped"
FAILED = "failed"

# What to do with a file that already exists in the target and differs from the snapshot
# (an identical one is always left alone, which is what lets a re-run finish a restore).
EXISTING_MODES = ("refuse", "skip", "overwrite")
DEFAULT_EXISTING = "refuse"

HASH_CHUNK = 1024 * 1024
# Bytes per ranged GET after the first response; the service client's get sizes match it.
CHUNK = 4 * 1024 * 1024
_FILE_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


@dataclass(frozen=True)
class Wanted:
    """One file of a snapshot and the blob that holds (or held) its content."""

    path: str  # relative, '/'-separated, untrusted
    size: int
    md5: bytes  # the manifest's MD5 of the file's content
    mtime_ns: int
    blob: str  # blob name in the backup container
    snapshot: str | None = None  # a blob snapshot id when already known


@dataclass(frozen=True)
class Restored:
    path: str
    status: str
    bytes: int = 0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "status": self.status, "bytes": self.bytes, "error": self.error}


class Raced(BackupError):
    """A duplicate attempt of the same download replaced our temporary file: try again."""


class _Mismatch(Exception):
    """What arrived is not what the manifest describes (size or MD5)."""


class _Missing(Exception):
    """No stored content has the manifest's MD5 any more."""


def _file_md5(parent_fd: int, leaf: str) -> bytes | None:
    try:
        fd = os.open(leaf, _READ_FLAGS, dir_fd=parent_fd)
    except OSError:
        return None
    digest = hashlib.md5(usedforsecurity=False)
    with os.fdopen(fd, "rb", buffering=0) as stream:
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.digest()


class _HashingWriter:
    """A write-only stream onto a file descriptor that hashes what passes, in order."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.digest = hashlib.md5(usedforsecurity=False)
        self.written = 0

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        self.digest.update(view)
        while view:
            done = os.write(self.fd, view)
            view = view[done:]
        self.written += len(data)
        return len(data)

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        pass


def _stored_md5(downloader: StorageStreamDownloader) -> bytes | None:
    md5 = downloader.properties.content_settings.content_md5
    return bytes(md5) if md5 else None


def _source(
    container: ContainerClient, wanted: Wanted
) -> tuple[BlobClient, StorageStreamDownloader]:
    """A download of the stored content with the manifest's MD5 (see snapshot_store).

    The base blob is tried first and its Content-MD5 read from the same response, so the
    usual case costs one request; only a file changed since the snapshot costs a listing of
    the blob's snapshots.
    """
    blob = container.get_blob_client(wanted.blob, snapshot=wanted.snapshot)
    # One connection: the content arrives in order and is hashed as it is written, so the
    # file is never read back. Memory: one chunk (the client's max_chunk_get_size).
    try:
        downloader = blob.download_blob(max_concurrency=1)
    except ResourceNotFoundError as exc:
        if getattr(exc, "error_code", None) == "ContainerNotFound":
            raise
        downloader = None
    if downloader is not None and _stored_md5(downloader) == wanted.md5:
        return blob, downloader
    if wanted.snapshot is None:
        versions = [
            item
            for item in container.list_blobs(name_starts_with=wanted.blob, include=["snapshots"])
            if item.name == wanted.blob
        ]
        content = snapshot_store.pick(versions, wanted.md5)
        if content is not None and content.snapshot is not None:
            older = container.get_blob_client(content.blob, snapshot=content.snapshot)
            return older, older.download_blob(max_concurrency=1)
    raise _Missing


def _fetch(container: ContainerClient, wanted: Wanted, fd: int, concurrency: int = 1) -> None:
    """Stream the stored content into ``fd``; _Mismatch when it is not the manifest's file.

    The first response carries the first chunk; the rest comes in ranges, up to
    ``concurrency`` at once, each pinned to the first response's ETag (content that changes
    meanwhile fails the attempt instead of mixing versions). Ranges are hashed and written
    in order, so memory holds at most ``concurrency + 1`` chunks and the file is never read
    back.
    """
    source, downloader = _source(container, wanted)
    if downloader.size != wanted.size:
        raise _Mismatch(
            f"the stored content has {downloader.size} bytes, the snapshot says {wanted.size}"
        )
    writer = _HashingWriter(fd)
    first = downloader.read(CHUNK)
    writer.write(first)
    if writer.written < wanted.size:
        etag = downloader.properties.etag
        _fetch_ranges(source, etag, writer, wanted.size, max(1, concurrency))
    if writer.written != wanted.size:
        raise _Mismatch(f"{writer.written} bytes arrived, the snapshot says {wanted.size}")
    if writer.digest.digest() != wanted.md5:
        raise _Mismatch("the stored content's MD5 differs from the snapshot's")


def _fetch_ranges(
    source: BlobClient, etag: str, writer: _HashingWriter, size: int, concurrency: int
) -> None:
    def get(offset: int) -> bytes:
        ranged = source.download_blob(
            offset=offset,
            length=min(CHUNK, size - offset),
            etag=etag,
            match_condition=MatchConditions.IfNotModified,
            max_concurrency=1,
        )
        # chunks() hands over the response bodies as they are; readall() would copy each
        # twice more (through a BytesIO), tripling the memory of every range in flight.
        return b"".join(ranged.chunks())

    offsets = range(writer.written, size, CHUNK)
    if concurrency == 1:
        for offset in offsets:
            writer.write(get(offset))
        return
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="restore") as pool:
        in_flight: deque[Future[bytes]] = deque()
        try:
            for offset in offsets:
                in_flight.append(pool.submit(get, offset))
                if len(in_flight) > concurrency:
                    writer.write(in_flight.popleft().result())
            while in_flight:
                writer.write(in_flight.popleft().result())
        finally:
            for future in in_flight:
                future.cancel()


def _create_temp(parent_fd: int, temp: str) -> int:
    try:
        return os.open(temp, _FILE_FLAGS, 0o666, dir_fd=parent_fd)
    except FileExistsError:
        # Left by an attempt that crashed (or a duplicate of this one, which then fails its
        # rename below and is retried): the content is fetched again either way.
        os.unlink(temp, dir_fd=parent_fd)
        return os.open(temp, _FILE_FLAGS, 0o666, dir_fd=parent_fd)


def _still_ours(parent_fd: int, temp: str, fd: int) -> bool:
    try:
        return os.stat(temp, dir_fd=parent_fd, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _write(
    container: ContainerClient, wanted: Wanted, parent_fd: int, leaf: str, concurrency: int
) -> None:
    temp = names.temp_name(leaf)
    fd = _create_temp(parent_fd, temp)
    renamed = False
    try:
        _fetch(container, wanted, fd, concurrency)
        os.utime(fd, ns=(wanted.mtime_ns, wanted.mtime_ns))
        # Content and mtime on disk before the name points at them: ext4 and XFS may
        # otherwise commit the rename first, and a power cut leaves an empty or short file
        # under the real name.
        os.fsync(fd)
        if not _still_ours(parent_fd, temp, fd):
            raise Raced(f"another attempt replaced the temporary file of {echo(wanted.path)}")
        os.rename(temp, leaf, src_dir_fd=parent_fd, dst_dir_fd=parent_fd)
        renamed = True
        # The rename itself is durable only once its folder is: the file counts as restored
        # (and is not fetched again by a re-run's orchestration) from here on.
        target.sync_folder(parent_fd)
    finally:
        os.close(fd)
        if not renamed and _exists(parent_fd, temp):
            os.unlink(temp, dir_fd=parent_fd)


def _exists(parent_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _existing(parent_fd: int, leaf: str, wanted: Wanted, existing: str) -> Restored | None:
    """The outcome when the file is there already, or None to write it."""
    kind, info = target.leaf_kind(parent_fd, leaf)
    if kind == "absent":
        return None
    if kind != "file":
        name = {"link": "a symbolic link", "folder": "a folder"}.get(kind, "not a regular file")
        return Restored(
            wanted.path, FAILED, error=f"the target holds {name} of this name; move it away first"
        )
    assert info is not None
    if info.st_size == wanted.size and _file_md5(parent_fd, leaf) == wanted.md5:
        if info.st_mtime_ns != wanted.mtime_ns:
            os.utime(
                leaf, ns=(wanted.mtime_ns, wanted.mtime_ns), dir_fd=parent_fd, follow_symlinks=False
            )
        return Restored(wanted.path, SKIPPED, bytes=wanted.size)
    if existing == "overwrite":
        return None
    if existing == "skip":
        return Restored(wanted.path, SKIPPED, bytes=0)
    return Restored(
        wanted.path,
        FAILED,
        error="a different file of this name exists in the target; restore with overwrite "
        "to replace it",
    )


def restore_entry(
    container: ContainerClient,
    target_fd: int,
    prefix: str,
    entry: Entry,
    existing: str = DEFAULT_EXISTING,
    concurrency: int = 1,
) -> Restored:
    """Restore one manifest entry (backed up under ``prefix``) below the folder ``target_fd``."""
    problem = names.problem(entry.path)
    if problem:
        return Restored(entry.path, FAILED, error=f"refused: {problem}")
    try:
        blob = blob_name(prefix, entry.path)
    except NamingError as exc:
        return Restored(entry.path, FAILED, error=f"refused: {exc}")
    wanted = Wanted(entry.path, entry.size, entry.md5, entry.mtime_ns, blob)
    return restore_file(container, target_fd, wanted, existing, concurrency)


def restore_file(
    container: ContainerClient,
    target_fd: int,
    wanted: Wanted,
    existing: str = DEFAULT_EXISTING,
    concurrency: int = 1,
) -> Restored:
    """Restore ``wanted`` below the folder ``target_fd`` (``concurrency``: ranged GETs of one
    large file in flight at once).

    Problems of this one file (an unsafe name, a link in the way, a differing file in refuse
    mode, stored content missing or not matching the snapshot) come back ``failed``; storage
    trouble that another attempt may cure raises ``StorageError``.
    """
    try:
        parts = names.segments(wanted.path)
    except names.NameRefused as exc:
        return Restored(wanted.path, FAILED, error=f"refused: {exc}")
    try:
        parent_fd = target.open_parent(target_fd, parts)
    except names.NameRefused as exc:
        return Restored(wanted.path, FAILED, error=f"refused: {exc}")
    except OSError as exc:
        return Restored(wanted.path, FAILED, error=f"cannot create its folder: {exc.strerror}")
    try:
        outcome = _existing(parent_fd, parts[-1], wanted, existing)
        if outcome is not None:
            return outcome
        _write(container, wanted, parent_fd, parts[-1], concurrency)
        return Restored(wanted.path, RESTORED, bytes=wanted.size)
    except _Mismatch as exc:
        return Restored(wanted.path, FAILED, error=f"not restored: {exc}")
    except _Missing:
        return Restored(
            wanted.path,
            FAILED,
            error="no stored content has this snapshot's MD5 any more (blob or blob snapshot "
            "deleted)",
        )
    except ResourceNotFoundError as exc:
        if getattr(exc, "error_code", None) == "ContainerNotFound":
            raise failure(exc, f"downloading {echo(wanted.blob)}") from None
        return Restored(wanted.path, FAILED, error="its stored content is missing from storage")
    except ResourceModifiedError as exc:
        # The blob was overwritten (a backup ran) while it was read: another attempt finds
        # the content again, in the blob's new snapshot.
        raise failure(exc, f"downloading {echo(wanted.blob)}") from None
    except AzureError as exc:
        if is_file_specific(exc):
            return Restored(wanted.path, FAILED, error=f"storage refused it: {describe(exc)}")
        raise failure(exc, f"downloading {echo(wanted.blob)}") from None
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        return Restored(wanted.path, FAILED, error=f"cannot write it: {reason}")
    finally:
        os.close(parent_fd)
