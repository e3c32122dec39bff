"""What prune may delete (pure): one listing item of the backup container at a time.

``needed`` maps a blob name to the MD5s kept snapshots list for it. An entry's content is
the base blob while it holds that MD5, else the newest blob snapshot holding it (the rule of
``sitebackup.snapshot_store``), so prune keeps exactly that one and nothing else:

- a base blob no kept snapshot lists is deleted, with its snapshots;
- a blob snapshot is deleted unless a kept snapshot lists its MD5 for that name, the base blob
  holds other content, and it is the newest snapshot of that name holding that MD5.

Nothing modified or taken at or after ``cutoff_ms`` (the start of the newest snapshot) is
touched: it may belong to a backup running now, whose snapshot is not written yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Item:
    """A base blob (``snapshot`` None) or one of its snapshots, as the listing shows it."""

    name: str
    snapshot: str | None
    md5: bytes | None
    size: int
    modified_ms: int  # last modified (base) or snapshot time


def snapshot_ms(snapshot: str) -> int:
    """A snapshot id (``2026-11-29T23:11:17.1234567Z``) as ms since the epoch."""
    text = snapshot.rstrip("Zz")
    head, _, fraction = text.partition(".")
    moment = datetime.fromisoformat(head + "+00:00")
    return int(moment.timestamp() * 1000) + int((fraction + "000")[:3])


def keeper(versions: Iterable[Item], md5: bytes) -> Item | None:
    """The version that holds ``md5`` for a reader: the base blob, else the newest snapshot."""
    best: Item | None = None
    for item in versions:
        if item.md5 != md5:
            continue
        if item.snapshot is None:
            return item
        if best is None or (best.snapshot or "") < item.snapshot:
            best = item
    return best


def deletable(
    item: Item,
    needed: Mapping[str, frozenset[bytes]],
    cutoff_ms: int,
    versions: Iterable[Item] | None = None,
) -> bool:
    """True when ``item`` may go. ``versions`` (every version of the item's name) is only
    consulted for a snapshot whose MD5 a kept snapshot lists; pass None otherwise."""
    if item.modified_ms >= cutoff_ms:
        return False
    wanted = needed.get(item.name)
    if item.snapshot is None:
        return not wanted
    if not wanted or item.md5 not in wanted:
        return True
    if versions is None:
        raise ValueError("the versions of the blob are needed to decide on this snapshot")
    return keeper(versions, item.md5) != item


def needs_versions(item: Item, needed: Mapping[str, frozenset[bytes]]) -> bool:
    return item.snapshot is not None and item.md5 in needed.get(item.name, frozenset())
