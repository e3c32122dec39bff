"""Compare a backup in blob storage with the tree it came from, byte for byte.

Every blob is downloaded and hashed: the Content-MD5 a blob claims is checked against the
bytes it really holds, and both against the source file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobProperties, ContainerClient

from faults.trees import FileFacts, Manifest

# The blob SDK's connection pool holds 10 connections by default; stay within it.
_WORKERS = 8


@dataclass(frozen=True)
class BlobFacts:
    name: str
    size: int  # what the blob service says the blob's length is
    claimed_md5: str | None  # hex of Content-MD5, None when the blob has none
    content_md5: str  # hex MD5 of the bytes downloaded
    content_size: int
    metadata: dict[str, str]


def blob_name(prefix: str, relative: str) -> str:
    return f"{prefix.strip('/')}/{relative}" if prefix.strip("/") else relative


def read_blob(container: ContainerClient, properties: BlobProperties) -> BlobFacts:
    """Download one blob and describe what it claims and what it holds."""
    digest = hashlib.md5()
    size = 0
    for chunk in container.download_blob(properties.name).chunks():
        digest.update(chunk)
        size += len(chunk)
    claimed = properties.content_settings.content_md5
    return BlobFacts(
        name=properties.name,
        size=properties.size,
        claimed_md5=bytes(claimed).hex() if claimed else None,
        content_md5=digest.hexdigest(),
        content_size=size,
        metadata=dict(properties.metadata or {}),
    )


def read_blobs(container: ContainerClient, prefix: str) -> dict[str, BlobFacts]:
    """Every blob under ``prefix/`` (or the whole container for an empty prefix), by name.

    A container that does not exist holds no blobs: storage can lose a whole container
    (Azurite killed before it saved its metadata), and that is a loss to report, every file
    missing, not a failure of the check.
    """
    start = f"{prefix.strip('/')}/" if prefix.strip("/") else None
    try:
        listed = list(container.list_blobs(name_starts_with=start, include=["metadata"]))
    except ResourceNotFoundError as exc:
        if getattr(exc, "error_code", None) != "ContainerNotFound":
            raise
        return {}
    with ThreadPoolExecutor(_WORKERS) as pool:
        facts = list(pool.map(lambda p: read_blob(container, p), listed))
    return {fact.name: fact for fact in facts}


def integrity_problems(blob: BlobFacts) -> list[str]:
    """What a blob claims about itself that its bytes contradict."""
    problems = []
    if blob.size != blob.content_size:
        problems.append(f"{blob.name}: size {blob.size} but {blob.content_size} bytes held")
    if blob.claimed_md5 is None:
        problems.append(f"{blob.name}: no Content-MD5")
    elif blob.claimed_md5 != blob.content_md5:
        problems.append(
            f"{blob.name}: Content-MD5 {blob.claimed_md5} but content hashes to {blob.content_md5}"
        )
    return problems


def compare(
    manifest: Manifest,
    blobs: dict[str, BlobFacts],
    prefix: str,
    excused: Iterable[str] = (),
) -> list[str]:
    """Every difference between the tree and its backup, as sentences; empty when equal.

    ``excused`` are relative paths the backup reported as not copied: they may be missing.
    """
    problems: list[str] = []
    excused_set = set(excused)
    expected = {blob_name(prefix, rel): (rel, facts) for rel, facts in manifest.items()}
    for name, (relative, facts) in sorted(expected.items()):
        blob = blobs.get(name)
        if blob is None:
            if relative not in excused_set:
                problems.append(f"{relative}: no blob {name!r}")
            continue
        problems.extend(integrity_problems(blob))
        problems.extend(_content_problems(relative, facts, blob))
    for name in sorted(set(blobs) - set(expected)):
        problems.append(f"{name}: blob without a source file")
    return problems


def _content_problems(relative: str, facts: FileFacts, blob: BlobFacts) -> list[str]:
    if (blob.content_size, blob.content_md5) == (facts.size, facts.md5):
        return []
    return [
        f"{relative}: file is {facts.size} bytes md5 {facts.md5}, blob holds "
        f"{blob.content_size} bytes md5 {blob.content_md5}"
    ]
