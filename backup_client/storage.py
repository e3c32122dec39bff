"""The I/O behind ``verify``: walk the local tree, hash files, list the backup's blobs."""

from __future__ import annotations

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


def walk_tree(root: Path, prefix: str) -> LocalTree:
    """The files a backup of ``root`` copies, by the backup's own listing rules.

    Using the app's walk (links not followed out of the root, special files and names that
    cannot be blob names left out) means verify compares exactly what a backup copies.
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
