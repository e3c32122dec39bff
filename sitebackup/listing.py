"""Walk a backup root: the files to copy, in a stable order, and what was left out and why.

Rules (also in the docs):
- The walk never leaves the root: every directory and symlink target is resolved with
  ``realpath`` and must stay inside it.
- A symlink to a regular file inside the root is backed up as a regular file under the
  link's own path (the site keeps working after a restore).
- A symlink to a directory is not followed: inside the root its target is backed up under
  its own path anyway, and following links is how walks loop or multiply.
- Symlinks out of the root, broken links, link loops, unreadable directories, special files
  and names that cannot be blob names are reported as skipped.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sitebackup.naming import blob_name, blob_name_problem
from sitebackup.paths import is_within

log = logging.getLogger(__name__)

# The listing result travels through the orchestration history: keep the sample of skipped
# entries bounded however messy the tree is (the count stays exact).
MAX_SKIPPED_LISTED = 200


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the root, '/' separators
    size: int
    mtime_ns: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "mtimeNs": self.mtime_ns}


@dataclass
class Listing:
    root: str
    files: list[FileEntry] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    skipped_count: int = 0

    @property
    def bytes_total(self) -> int:
        return sum(entry.size for entry in self.files)

    def skip(self, rel_path: str, reason: str) -> None:
        self.skipped_count += 1
        log.info("skipped %r: %s", rel_path, reason)
        if len(self.skipped) < MAX_SKIPPED_LISTED:
            self.skipped.append({"path": rel_path, "reason": reason})

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "files": [entry.to_dict() for entry in self.files],
            "filesTotal": len(self.files),
            "bytesTotal": self.bytes_total,
            "skipped": self.skipped,
            "skippedCount": self.skipped_count,
        }


def _display(rel_parts: list[str]) -> str:
    # Undecodable names carry surrogate escapes; show them readably instead of failing later
    # when the text is encoded as JSON or UTF-8.
    text = "/".join(rel_parts)
    return (
        text.encode("utf-8", "backslashreplace").decode("utf-8") if _has_surrogates(text) else text
    )


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _special_kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def _symlink_target(path: str, root: str) -> tuple[os.stat_result | None, str | None]:
    """The followed stat of a symlink inside ``root``, or None and why it is skipped."""
    try:
        followed = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, "symlink loop"
        if exc.errno == errno.ENOENT:
            return None, "broken symlink (its target does not exist)"
        return None, f"symlink cannot be followed: {exc.strerror}"
    if not is_within(os.path.realpath(path), root):
        return None, "symlink to a location outside the backup root (not followed)"
    if stat.S_ISDIR(followed.st_mode):
        return None, (
            "symlink to a directory (not followed; its target inside the root is backed "
            "up under its own path)"
        )
    if not stat.S_ISREG(followed.st_mode):
        return None, f"symlink to {_special_kind(followed.st_mode)}"
    return followed, None


def _read_dir(listing: Listing, root: str, rel_dir: list[str]) -> list[os.DirEntry]:
    abs_dir = os.path.join(root, *rel_dir)
    if rel_dir and not is_within(os.path.realpath(abs_dir), root):
        # The directory was swapped for a link after its parent was read.
        listing.skip(_display(rel_dir), "directory now resolves outside the backup root")
        return []
    try:
        with os.scandir(abs_dir) as iterator:
            return sorted(iterator, key=lambda entry: entry.name)
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        listing.skip(_display(rel_dir) or ".", f"cannot read directory: {reason}")
        return []


def list_tree(root: str, prefix: str = "") -> Listing:
    """Every file under ``root`` (already resolved), sorted by path (folder by folder)."""
    listing = Listing(root=root)
    # An explicit stack instead of recursion: trees can be deeper than the recursion limit.
    stack: list[tuple[list[str], Iterator[os.DirEntry]]] = [
        ([], iter(_read_dir(listing, root, [])))
    ]
    while stack:
        rel_dir, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        rel_parts = [*rel_dir, entry.name]
        if _visit(listing, entry, rel_parts, root, prefix):
            stack.append((rel_parts, iter(_read_dir(listing, root, rel_parts))))
    return listing


def _visit(
    listing: Listing,
    entry: os.DirEntry,
    rel_parts: list[str],
    root: str,
    prefix: str,
) -> bool:
    """Record one entry; True when it is a directory to descend into."""
    rel = _display(rel_parts)
    if _has_surrogates(entry.name):
        listing.skip(rel, "the name is not valid UTF-8 and cannot be a blob name")
        return False
    try:
        if entry.is_symlink():
            followed, reason = _symlink_target(entry.path, root)
            if followed is None:
                listing.skip(rel, reason or "symlink")
                return False
            info = followed
        elif entry.is_dir(follow_symlinks=False):
            return True
        else:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode):
                listing.skip(rel, f"special file: {_special_kind(info.st_mode)}")
                return False
    except OSError as exc:
        listing.skip(rel, f"cannot read: {exc.strerror or exc.__class__.__name__}")
        return False
    problem = blob_name_problem(blob_name(prefix, rel))
    if problem:
        listing.skip(rel, problem)
        return False
    listing.files.append(FileEntry(rel, info.st_size, info.st_mtime_ns))
    return False
