"""The client's read of a backup's snapshots, straight from storage (like ``verify``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from azure.core.exceptions import AzureError
from azure.storage.blob import ContainerClient

from backup_client.errors import ClientError, StorageError
from backup_client.progress import format_bytes
from backup_client.storage import client_options
from sitebackup.layout import DEFAULT_META_CONTAINER
from sitebackup.manifest import Header, ManifestError
from sitebackup.snapshot_store import SnapshotStore

META_SETTING = "BACKUP_META_CONTAINER"


class SnapshotNotFound(ClientError):
    """No snapshot of that id (or none at all) for this backup."""


def resolve_meta(environ: Mapping[str, str], local_settings: Mapping[str, str]) -> str:
    """The meta container: the app's BACKUP_META_CONTAINER setting, else ``backup-meta``."""
    for value in (environ.get(META_SETTING), local_settings.get(META_SETTING)):
        if value and value.strip():
            return value.strip()
    return DEFAULT_META_CONTAINER


def open_store(connection_string: str, meta: str, container: str, prefix: str) -> SnapshotStore:
    try:
        client = ContainerClient.from_connection_string(connection_string, meta, **client_options())
    except (ValueError, AzureError) as error:
        raise StorageError(f"the storage connection string is not usable: {error}") from None
    return SnapshotStore(client, container, prefix)


def headers(store: SnapshotStore, limit: int | None = None) -> Iterator[Header]:
    """The snapshots' headers, newest first (one small read each)."""
    try:
        for index, ref in enumerate(store.list()):
            if limit is not None and index >= limit:
                return
            yield store.header(ref)
    except ManifestError as error:
        raise StorageError(f"a snapshot cannot be read: {error}") from None
    except AzureError as error:
        raise StorageError(f"cannot read the snapshots: {_first_line(error)}") from None


def find(store: SnapshotStore, wanted: str) -> Header:
    try:
        ref = store.find(wanted)
        if ref is None:
            raise SnapshotNotFound(
                f"there is no snapshot {wanted!r} of {store.container}/{store.prefix}; "
                "list them with 'site-backup snapshots DIR'"
            )
        return store.header(ref)
    except ManifestError as error:
        raise SnapshotNotFound(str(error)) from None
    except AzureError as error:
        raise StorageError(f"cannot read the snapshots: {_first_line(error)}") from None


def _first_line(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error)
    return (message.splitlines() or [""])[0]


@dataclass(frozen=True)
class Row:
    id: str
    time: str
    files: str
    bytes: str
    changes: str

    @classmethod
    def of(cls, header: Header) -> Row:
        ended = datetime.fromtimestamp(header.ended_ms / 1000, UTC)
        changes = header.changes
        text = (
            f"+{changes.added:,} ~{changes.changed:,} -{changes.deleted:,}"
            if changes is not None
            else "(first)"
        )
        if header.failed:
            text += f"  ({header.failed:,} failed)"
        return cls(
            header.run_id,
            ended.strftime("%Y-%m-%d %H:%M:%S"),
            f"{header.files:,}",
            format_bytes(header.bytes),
            text,
        )


def to_json(header: Header) -> dict:
    value = header.to_json()
    value.pop("pages", None)
    return value
