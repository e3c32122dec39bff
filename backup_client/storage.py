"""The I/O behind ``verify``: walk the local tree, hash files, list the backup's blobs."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import ContainerClient, ExponentialRetry

from backup_client.errors import StorageError
from backup_client.verify import LocalFile, RemoteBlob
from sitebackup.listing import list_tree

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024


# The SDK's defaults retry a refused connection for over a minute; a command line should say
# "nothing answers" within seconds, and still ride out a transient error.
def client_options() -> dict:
    return {
        "retry_policy": ExponentialRetry(
            initial_backoff=1, increment_base=2, retry_total=3, retry_connect=1
        ),
        "connection_timeout": 10,
    }


@dataclass
class LocalTree:
    files: list[LocalFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (rel_path, why), a sample
    skipped_count: int = 0

    @functools.cached_property
    def _reasons(self) -> dict[str, str]:
        return dict(self.skipped)

    @functools.cached_property
    def _listed(self) -> frozenset[str]:
        return frozenset(f.rel_path for f in self.files)

    def left_out(self, rel_path: str) -> str | None:
        """Why the backup's listing leaves ``rel_path`` out on purpose; None if it does not."""
        if rel_path in self._reasons:
            return self._reasons[rel_path]
        # Only a sample of the skipped entries is kept: past it, "not listed" is the evidence.
        if self.skipped_count > len(self.skipped) and rel_path not in self._listed:
            return f"left out by the backup's listing (one of {self.skipped_count:,} entries)"
        return None


def walk_tree(root: Path, prefix: str) -> LocalTree:
    """The files a backup of ``root`` copies, by the backup's own listing rules.

    ``verify`` walks the tree itself (``plain_walk``); this view only tells a file the backup
    leaves out on purpose (special files, names that cannot be blob names...) from one it lost.
    """
    real_root = os.path.realpath(root)
    listing = list_tree(real_root, prefix)
    return LocalTree(
        files=[
            LocalFile(entry.path, entry.size, os.path.join(real_root, *entry.path.split("/")))
            for entry in listing.files
        ],
        skipped=[(item["path"], item["reason"]) for item in listing.skipped],
        skipped_count=listing.skipped_count,
    )


def file_md5(file: LocalFile) -> bytes:
    """The MD5 of a file's content, read in 1 MiB chunks (bounded memory)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(file.path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.digest()


@dataclass
class BlobListing:
    blobs: dict[str, RemoteBlob]
    container_exists: bool
    endpoint: str


def list_backup(connection_string: str, container: str, prefix: str) -> BlobListing:
    """The blobs under ``prefix/`` (every blob when the prefix is empty) in ``container``."""
    try:
        client = ContainerClient.from_connection_string(
            connection_string, container, **client_options()
        )
    except (ValueError, AzureError) as error:
        raise StorageError(f"the storage connection string is not usable: {error}") from None
    starts_with = f"{prefix.strip('/')}/" if prefix.strip("/") else None
    blobs: dict[str, RemoteBlob] = {}
    try:
        with client:
            endpoint = client.primary_endpoint.rsplit("/", 1)[0]
            try:
                for item in client.list_blobs(name_starts_with=starts_with):
                    md5 = item.content_settings.content_md5 if item.content_settings else None
                    blobs[item.name] = RemoteBlob(
                        item.name, int(item.size or 0), bytes(md5) if md5 else None
                    )
            except ResourceNotFoundError:
                return BlobListing({}, False, endpoint)
    except AzureError as error:
        message = getattr(error, "message", None) or str(error)
        text = f"cannot list container {container!r} at {client.url}: {message.splitlines()[0]}"
        if "Connection refused" in message and client.url.startswith("http://127.0.0.1:"):
            text += " (is Azurite running? './dev host' starts it with the local host)"
        raise StorageError(text) from None
    return BlobListing(blobs, True, endpoint)
