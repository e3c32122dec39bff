"""Which root a destination (container + prefix) belongs to: its owner record.

Two roots whose folders share a name (``/a/www`` and ``/b/www``) default to the same prefix,
and a backup of one into the other's destination would mix or overwrite their files. So the
first backup into a destination records its root in the meta container
(``layout.owner_blob``), and a backup of another root into it is refused unless the request
asks to take the destination over.

The record is written conditionally: a new one with ``If-None-Match: *`` (of two starts at
once only one creates it, the other then reads the winner), a take-over with ``If-Match`` on
the record it read. Storage decides the race, not the order of two checks.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob import ContainerClient, ContentSettings

from sitebackup import layout, storage
from sitebackup.errors import StorageError, echo

# A conditional write that lost a race is retried after reading the winner again.
_ATTEMPTS = 3


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a destination for a root."""

    owner: str  # the root that owns the destination now
    taken_over_from: str | None = None  # the previous owner, when the request took it over

    def owned_by(self, root: str) -> bool:
        return self.owner == root


def describe_destination(container: str, prefix: str) -> str:
    return f"{container}/{prefix}" if prefix else container


def conflict_message(root: str, owner: str, container: str, prefix: str) -> str:
    return (
        f"the destination {echo(describe_destination(container, prefix))} holds the backup of "
        f"{echo(owner)}, so {echo(root)} cannot be backed up into it: choose another prefix "
        'for this directory, or send "takeOver": true to make it the destination\'s owner '
        "(its files will then replace the other directory's)"
    )


def _record(root: str) -> bytes:
    return json.dumps({"root": root, "claimedAtMs": int(time.time() * 1000)}).encode("utf-8")


def _read(meta: ContainerClient, name: str) -> tuple[str, str] | None:
    """(owner root, etag) of the record, or None when there is none."""
    try:
        download = meta.download_blob(name)
        body = download.readall()
    except ResourceNotFoundError:
        return None
    try:
        value: Any = json.loads(body)
        owner = value["root"]
        if not isinstance(owner, str):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        # Not ours to interpret: treat it as owned by nobody we know, so only a take-over
        # replaces it.
        owner = f"<unreadable owner record {name}>"
    return owner, download.properties.etag


def _create(meta: ContainerClient, name: str, root: str) -> bool:
    """Write a new record; False when one appeared first (someone else won the race)."""
    settings = ContentSettings(content_type="application/json")
    try:
        meta.upload_blob(name, _record(root), overwrite=False, content_settings=settings)
    except ResourceExistsError:
        return False
    except ResourceNotFoundError as exc:
        if getattr(exc, "error_code", None) != "ContainerNotFound":
            raise
        storage.ensure_container(meta)
        return _create(meta, name, root)
    return True


def _replace(meta: ContainerClient, name: str, root: str, etag: str) -> bool:
    """Overwrite the record read with ``etag``; False when it changed meanwhile."""
    try:
        meta.upload_blob(
            name,
            _record(root),
            overwrite=True,
            etag=etag,
            match_condition=MatchConditions.IfNotModified,
            content_settings=ContentSettings(content_type="application/json"),
        )
    except (ResourceModifiedError, ResourceNotFoundError):
        return False
    return True


def owner_of(meta: ContainerClient, container: str, prefix: str) -> str | None:
    """The root that owns the destination, or None (read only)."""
    name = layout.owner_blob(container, prefix)
    try:
        current = _read(meta, name)
    except ResourceNotFoundError:
        return None
    except AzureError as exc:
        raise storage.failure(exc, f"reading the owner of {echo(name)}") from None
    return current[0] if current else None


def claim(
    meta: ContainerClient, container: str, prefix: str, root: str, take_over: bool = False
) -> Claim:
    """Make ``root`` the owner of the destination if nobody else is (or if ``take_over``).

    Returns who owns it afterwards: the caller refuses the backup when that is another root.
    Storage failures raise ``StorageError``.
    """
    name = layout.owner_blob(container, prefix)
    try:
        for _ in range(_ATTEMPTS):
            current = _read(meta, name)
            if current is None:
                if _create(meta, name, root):
                    return Claim(owner=root)
                continue
            owner, etag = current
            if owner == root or not take_over:
                return Claim(owner=owner)
            if _replace(meta, name, root, etag):
                return Claim(owner=root, taken_over_from=owner)
    except AzureError as exc:
        raise storage.failure(exc, f"recording the owner of {echo(name)}") from None
    raise StorageError(f"the owner record {echo(name)} kept changing; try again")
