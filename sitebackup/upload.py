"""Copy one file into a block blob: skip it when unchanged, else stream it with its MD5.

Memory stays bounded whatever the file size: small files go up in one Put Blob, larger ones
in blocks with at most ``concurrency`` blocks in flight. The MD5 is computed while reading
and set as the blob's Content-MD5 when the block list is committed, so a blob never claims
a checksum of content it does not hold. A file that changes while it is read is read again;
its blob is only committed from a read that saw the file stand still.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import mimetypes
import os
import stat
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import (
    BlobBlock,
    BlobClient,
    BlobProperties,
    ContainerClient,
    ContentSettings,
)

from sitebackup import metadata
from sitebackup.errors import NamingError, echo
from sitebackup.naming import blob_name
from sitebackup.rootfs import EscapesRoot, RootDir
from sitebackup.storage import describe, failure, is_file_specific

log = logging.getLogger(__name__)

MIB = 1024 * 1024
MAX_BLOCKS = 50_000  # Azure's limit of blocks per blob
HASH_CHUNK = 1 * MIB

COPIED = "copied"
SKIPPED = "skipped"
FAILED = "failed"


@dataclass(frozen=True)
class UploadTuning:
    single_put_limit: int = 4 * MIB  # files up to this size go up in one request
    block_size: int = 4 * MIB
    concurrency: int = 2  # blocks in flight per file (memory: concurrency + 1 blocks)
    read_attempts: int = 3  # reads of a file that keeps changing before giving up

    def block_size_for(self, size: int) -> int:
        """The configured block size, raised for huge files to stay within 50,000 blocks."""
        needed = -(-size // MAX_BLOCKS)
        return max(self.block_size, -(-needed // MIB) * MIB)


@dataclass(frozen=True)
class CopyResult:
    path: str
    status: str
    bytes: int = 0
    error: str | None = None
    # What the blob holds after a copied or skipped file: the snapshot manifest's entry.
    mtime_ns: int | None = None
    md5: bytes | None = None

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "path": self.path,
            "status": self.status,
            "bytes": self.bytes,
            "error": self.error,
        }
        if self.md5 is not None and self.mtime_ns is not None:
            result["mtimeNs"] = self.mtime_ns
            result["md5"] = base64.b64encode(self.md5).decode("ascii")
        return result


@dataclass(frozen=True)
class _Stored:
    status: str
    size: int
    mtime_ns: int
    md5: bytes


class _SourceChanged(Exception):
    """The file changed while it was read; nothing was committed."""


def _signature(info: os.stat_result) -> tuple[int, int, int, int]:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def _ensure_still(fd: int, before: os.stat_result, bytes_read: int) -> None:
    if bytes_read != before.st_size or _signature(os.fstat(fd)) != _signature(before):
        raise _SourceChanged


def _properties(blob: BlobClient) -> BlobProperties | None:
    try:
        return blob.get_blob_properties()
    except ResourceNotFoundError as exc:
        if getattr(exc, "error_code", None) == "ContainerNotFound":
            raise
        return None


def _md5_of(stream: BinaryIO, size: int) -> tuple[bytes, int]:
    digest = hashlib.md5(usedforsecurity=False)
    total = 0
    # Each read allocates its full length: a small file gets a buffer of its own size.
    chunk_size = min(HASH_CHUNK, size + 1)
    while chunk := stream.read(chunk_size):
        digest.update(chunk)
        total += len(chunk)
    return digest.digest(), total


def file_md5(root: RootDir, rel_path: str, size: int, mtime_ns: int) -> bytes | None:
    """The MD5 of a listed file, or None when it is not the file that was listed.

    None covers a file that vanished, cannot be read, was swapped for a link out of the
    root, or whose size or mtime differ from the listing or changed while it was read: the
    copy activity then looks at it again and reports what it finds.
    """
    try:
        fd = root.open_file(rel_path)
        with os.fdopen(fd, "rb", buffering=0) as stream:
            info = os.fstat(fd)
            if (
                not stat.S_ISREG(info.st_mode)
                or info.st_size != size
                or info.st_mtime_ns != mtime_ns
            ):
                return None
            digest, total = _md5_of(stream, info.st_size)
            _ensure_still(fd, info, total)
            return digest
    except (OSError, _SourceChanged):
        return None


def _stored_md5(blob_props: BlobProperties | None) -> bytes | None:
    settings = blob_props.content_settings if blob_props is not None else None
    md5 = settings.content_md5 if settings else None
    return bytes(md5) if md5 else None


def _unchanged(
    blob_props: BlobProperties | None,
    info: os.stat_result,
    compare: str,
    stream: BinaryIO,
    fd: int,
) -> bool:
    if blob_props is None or blob_props.size != info.st_size:
        return False
    if not metadata.describes(blob_props.metadata, info.st_size, info.st_mtime_ns):
        return False
    stored_md5 = _stored_md5(blob_props)
    if not stored_md5:
        return False
    if compare == "mtime":
        return True
    digest, total = _md5_of(stream, info.st_size)
    _ensure_still(fd, info, total)
    stream.seek(0)
    return digest == stored_md5


def _keep_previous(blob: BlobClient, existing: BlobProperties | None, new_md5: bytes) -> None:
    """Snapshot the blob before it is overwritten with other content, so the snapshots that
    list its current content can still be restored. Same content (a touched file): nothing
    to keep. A retried copy may take a second snapshot of the same content; prune drops it."""
    if existing is None or _stored_md5(existing) == new_md5:
        return
    try:
        blob.create_snapshot()
    except ResourceNotFoundError as exc:
        if getattr(exc, "error_code", None) == "ContainerNotFound":
            raise
        # The blob went away since it was looked at: nothing left to keep.


def _settings(content_type: str, md5: bytes) -> ContentSettings:
    return ContentSettings(content_type=content_type, content_md5=bytearray(md5))


def _put_small(
    blob: BlobClient,
    stream: BinaryIO,
    fd: int,
    info: os.stat_result,
    content_type: str,
    limit: int,
    existing: BlobProperties | None,
) -> bytes:
    # One byte more than fstat said shows a file that grew; reading up to ``limit`` instead
    # would allocate the whole single-put limit for every small file.
    data = stream.read(min(info.st_size, limit) + 1)
    _ensure_still(fd, info, len(data))
    digest = hashlib.md5(data, usedforsecurity=False).digest()
    _keep_previous(blob, existing, digest)
    blob.upload_blob(
        data,
        length=len(data),
        overwrite=True,
        content_settings=_settings(content_type, digest),
        metadata=metadata.for_file(info.st_size, info.st_mtime_ns),
        max_concurrency=1,
    )
    return digest


def _put_blocks(
    blob: BlobClient,
    stream: BinaryIO,
    fd: int,
    info: os.stat_result,
    content_type: str,
    tuning: UploadTuning,
    existing: BlobProperties | None,
) -> bytes:
    block_size = tuning.block_size_for(info.st_size)
    # A fresh id prefix per attempt: a concurrent duplicate of this activity (queues deliver
    # at least once) stages its own blocks and can never mix them into our block list.
    token = uuid.uuid4().hex
    block_ids: list[str] = []
    digest = hashlib.md5(usedforsecurity=False)
    total = 0
    with ThreadPoolExecutor(max_workers=tuning.concurrency) as pool:
        in_flight: deque[Future] = deque()
        while chunk := stream.read(block_size):
            total += len(chunk)
            if total > info.st_size:
                raise _SourceChanged
            digest.update(chunk)
            block_id = f"{token}-{len(block_ids):08d}"
            block_ids.append(block_id)
            in_flight.append(pool.submit(blob.stage_block, block_id, chunk, length=len(chunk)))
            del chunk  # only the in-flight requests keep their blocks alive
            # Up to ``concurrency`` blocks travel while the next one is read.
            while len(in_flight) > tuning.concurrency:
                in_flight.popleft().result()
        while in_flight:
            in_flight.popleft().result()
    _ensure_still(fd, info, total)
    _keep_previous(blob, existing, digest.digest())
    blob.commit_block_list(
        [BlobBlock(block_id=block_id) for block_id in block_ids],
        content_settings=_settings(content_type, digest.digest()),
        metadata=metadata.for_file(info.st_size, info.st_mtime_ns),
    )
    return digest.digest()


def _copy_once(
    blob: BlobClient,
    root: RootDir,
    rel_path: str,
    compare: str,
    content_type: str,
    tuning: UploadTuning,
    blob_absent: bool,
) -> _Stored:
    fd = root.open_file(rel_path)
    with os.fdopen(fd, "rb", buffering=0) as stream:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise IsADirectoryError(0, "it is no longer a regular file")
        # When the listing saw no blob of this name (or created the container) there is
        # nothing to compare with; skipping the lookup saves one request per file.
        existing = None if blob_absent else _properties(blob)
        if _unchanged(existing, info, compare, stream, fd):
            return _Stored(SKIPPED, info.st_size, info.st_mtime_ns, _stored_md5(existing) or b"")
        if info.st_size <= tuning.single_put_limit:
            digest = _put_small(
                blob, stream, fd, info, content_type, tuning.single_put_limit, existing
            )
        else:
            digest = _put_blocks(blob, stream, fd, info, content_type, tuning, existing)
        return _Stored(COPIED, info.st_size, info.st_mtime_ns, digest)


def copy_file(
    container: ContainerClient,
    root: RootDir,
    prefix: str,
    rel_path: str,
    compare: str = "checksum",
    tuning: UploadTuning | None = None,
    blob_absent: bool = False,
) -> CopyResult:
    """Back up ``root/rel_path`` as ``<prefix>/<rel_path>`` in ``container``.

    ``root`` is an open handle on the backup root: the file is opened from it component by
    component (``sitebackup.rootfs``), never by path. Problems with the file itself
    (vanished, unreadable, changing, a link out of the root, a name the service rejects)
    come back as a ``failed`` result. Storage failures that another attempt may
    cure raise ``StorageError``, so the orchestration's retry policy applies.
    ``blob_absent`` says the listing found no blob of this name (or created the container):
    the blob is written without first looking for an existing one (at worst, a blob that
    appeared since is overwritten with the same content).
    """
    tuning = tuning or UploadTuning()
    try:
        name = blob_name(prefix, rel_path)
    except NamingError as exc:
        return CopyResult(rel_path, FAILED, error=str(exc))
    blob = container.get_blob_client(name)
    content_type = mimetypes.guess_type(rel_path, strict=False)[0] or "application/octet-stream"
    for attempt in range(1, tuning.read_attempts + 1):
        try:
            stored = _copy_once(blob, root, rel_path, compare, content_type, tuning, blob_absent)
        except _SourceChanged:
            log.info("%r changed while it was read (attempt %d)", rel_path, attempt)
            continue
        except FileNotFoundError:
            return CopyResult(rel_path, FAILED, error="the file no longer exists")
        except EscapesRoot:
            return CopyResult(rel_path, FAILED, error="the path now leads outside the backup root")
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            return CopyResult(rel_path, FAILED, error=f"cannot read the file: {reason}")
        except AzureError as exc:
            if is_file_specific(exc):
                return CopyResult(rel_path, FAILED, error=f"storage rejected it: {describe(exc)}")
            raise failure(exc, f"uploading {echo(name)}") from None
        return CopyResult(
            rel_path, stored.status, bytes=stored.size, mtime_ns=stored.mtime_ns, md5=stored.md5
        )
    return CopyResult(
        rel_path,
        FAILED,
        error=f"the file kept changing while it was read ({tuning.read_attempts} attempts)",
    )
