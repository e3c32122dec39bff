"""Where the app keeps what is not a backed-up file: ownership, snapshots, file-list pages.

Backed-up files are blobs named ``<prefix>/<relative path>`` in the backup container, and a
relative path can be any name at all, so nothing of ours may live beside them. Everything
else goes into a container of its own (``BACKUP_META_CONTAINER``, default
``backup-meta``), under one folder per destination (container + prefix):

    <container>/<quoted prefix>/owner.json                 the root that owns the destination
    <container>/<quoted prefix>/snapshots/<key>.json       one manifest per run, newest first
    <container>/<quoted prefix>/runs/<run id>/<page>       pages written during one run
    <container>/<quoted prefix>/restores/<run>/plan.jsonl.gz   one restore's partitions

The prefix is percent-quoted into one path segment (``www/site`` -> ``www%2Fsite``), and
the empty prefix is ``=``, which quoting never produces, so two destinations never share a
folder. Snapshot keys start with the inverted end time, so a plain (ascending) blob listing
returns the newest snapshot first.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote, unquote

DEFAULT_META_CONTAINER = "backup-meta"
EMPTY_PREFIX = "="
# Milliseconds since the epoch stay below this until the year 2286.
_INVERT_FROM = 10**13 - 1


def destination_folder(container: str, prefix: str) -> str:
    """The folder (ending in '/') of one destination in the meta container."""
    return f"{container}/{quote(prefix, safe='') or EMPTY_PREFIX}/"


def parse_destination_folder(folder: str) -> tuple[str, str]:
    """``destination_folder`` backwards: (container, prefix)."""
    container, _, quoted = folder.strip("/").partition("/")
    return container, "" if quoted == EMPTY_PREFIX else unquote(quoted)


def owner_blob(container: str, prefix: str) -> str:
    return destination_folder(container, prefix) + "owner.json"


def snapshots_folder(container: str, prefix: str) -> str:
    return destination_folder(container, prefix) + "snapshots/"


def snapshot_key(ended_ms: int, run_id: str) -> str:
    """Sorts newest first: the inverted end time, zero-padded, then the run id."""
    if not 0 <= ended_ms <= _INVERT_FROM:
        raise ValueError(f"end time {ended_ms} ms is out of range")
    return f"{_INVERT_FROM - ended_ms:013d}-{run_id}"


def ended_ms_of(key: str) -> int:
    """The end time (ms since the epoch) a snapshot key encodes."""
    return _INVERT_FROM - int(key.split("-", 1)[0])


def snapshot_blob(container: str, prefix: str, ended_ms: int, run_id: str) -> str:
    return snapshots_folder(container, prefix) + snapshot_key(ended_ms, run_id) + ".json"


def run_id_of(key: str) -> str:
    """The run id a snapshot key encodes."""
    return key.split("-", 1)[1]


def key_of_blob(name: str) -> str:
    """The snapshot key of a header blob's name (``.../snapshots/<key>.json``)."""
    return name.rsplit("/", 1)[-1].removesuffix(".json")


_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


def new_run_id(started: datetime, uuid: object) -> str:
    """A run id from the orchestration's replay-safe clock and uuid: readable, sorts by
    start, unique per run (the instance id is one per destination and repeats)."""
    return f"{started:%Y%m%dT%H%M%SZ}-{str(uuid).replace('-', '')[:12]}"


def is_run_id(value: object) -> bool:
    """True for a string that can name a run folder (one plain path segment)."""
    return isinstance(value, str) and bool(_RUN_ID.match(value))


def run_folder(container: str, prefix: str, run_id: str) -> str:
    return destination_folder(container, prefix) + f"runs/{run_id}/"


# Pages a run writes: the files to copy (one page per partition), the unchanged files with
# their MD5 (from the blob listing), and what each partition stored. A snapshot's entries are
# the UNCHANGED and STORED pages; each kind, read in index order, is sorted in blob-name
# order (the walk's). LOST pages name the entries the post-copy confirmation did not find in
# storage; a page that had such an entry is written again without it (``kept_page``) and
# the snapshot names that one instead.
COPY_PAGE = "copy"
UNCHANGED_PAGE = "unchanged"
STORED_PAGE = "stored"
LOST_PAGE = "lost"
ENTRY_PAGE_KINDS = (UNCHANGED_PAGE, STORED_PAGE)


def run_page(container: str, prefix: str, run_id: str, kind: str, index: int) -> str:
    return run_folder(container, prefix, run_id) + f"{kind}-{index:05d}.jsonl.gz"


def kept_page(container: str, prefix: str, run_id: str, kind: str, index: int) -> str:
    """The page ``run_page(..., kind, index)`` without the entries storage lost."""
    return run_folder(container, prefix, run_id) + f"{kind}-{index:05d}-kept.jsonl.gz"


_ENTRY_PAGE = re.compile(r"/runs/[^/]+/(unchanged|stored)-[0-9]{5,}(?:-kept)?\.jsonl\.gz$")


def entry_page_kind(name: str) -> str | None:
    """The kind of a snapshot's entry page (``UNCHANGED_PAGE`` or ``STORED_PAGE``, kept or
    not) from its name: the pages of one kind form one sorted run. None when the name is
    not one a run writes."""
    match = _ENTRY_PAGE.search(name)
    return match.group(1) if match else None


def restore_plan(container: str, prefix: str, run: str) -> str:
    """The plan of one restore from this destination: a ``[page, start, count]`` slice of
    the snapshot per partition, so the restore's history holds only their number. Apart
    from ``runs/``, whose sweep after a prune knows nothing of restores still running."""
    return destination_folder(container, prefix) + f"restores/{run}/plan.jsonl.gz"
