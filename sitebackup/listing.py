"""Walk a backup root: the files to copy, in a stable order, and what was left out and why.

Rules (also in the docs):
- The walk never leaves the root: every folder is opened from a handle on its parent without
  following links, and symlink targets are resolved inside the root (``sitebackup.rootfs``),
  so a folder swapped for a link while the walk runs is met as a link, never followed.
- A symlink to a regular file inside the root is backed up as a regular file under the
  link's own path (the site keeps working after a restore).
- A symlink to a directory is not followed: inside the root its target is backed up under
  its own path anyway, and following links is how walks loop or multiply.
- Symlinks out of the root, broken links, link loops, unreadable directories, special files
  and names that cannot be blob names are reported as skipped.
- Include/exclude rules (``sitebackup.rules``) are applied while walking: an excluded
  directory is not opened, an excluded file is neither listed nor reported as skipped; the
  rules count what they left out.
- The walk streams (``walk_tree`` is a generator): it holds one sorted name list per open
  folder level, never the tree. Files come out in blob-name order (the order List Blobs
  returns the blobs of the prefix in), so the listing can compare them with the stored
  blobs in one merge (``sitebackup.rerun.BlobCursor``): within a folder, names are sorted
  with a ``/`` after a folder's name, which is where its files' paths sort.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sitebackup.naming import MAX_PATH_SEGMENTS, blob_name, blob_name_problem
from sitebackup.rootfs import EscapesRoot, RootDir, open_dir_at
from sitebackup.rules import RuleSet

log = logging.getLogger(__name__)

# The listing result travels through the orchestration history: keep the sample of skipped
# entries bounded however messy the tree is (the count stays exact).
MAX_SKIPPED_LISTED = 200
# The walk holds one open handle per folder level. No file deeper than a blob name's segment
# limit can be stored anyway; past this depth a folder is reported instead of opened.
MAX_DEPTH = 2 * MAX_PATH_SEGMENTS


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the root, '/' separators
    size: int
    mtime_ns: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "mtimeNs": self.mtime_ns}


# Paths of excluded files and folders kept as a sample (for a dry run's report).
MAX_EXCLUDED_LISTED = 1000


@dataclass
class Listing:
    """What a walk saw besides the files it yields: totals, skipped entries, exclusions.

    ``files`` is filled only by ``list_tree``; ``walk_tree`` leaves it empty and counts.
    """

    root: str
    files: list[FileEntry] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    skipped_count: int = 0
    rules: RuleSet | None = None
    files_total: int = 0
    bytes_total: int = 0
    # A sample of what the rules left out (folders end in '/') and the excluded files' bytes
    # (a pruned folder's content is not visited, so not counted).
    excluded: list[str] = field(default_factory=list)
    excluded_bytes: int = 0

    def exclude(self, rel_path: str, info: os.stat_result) -> None:
        is_dir = stat.S_ISDIR(info.st_mode)
        if not is_dir and stat.S_ISREG(info.st_mode):
            self.excluded_bytes += info.st_size
        if len(self.excluded) < MAX_EXCLUDED_LISTED:
            self.excluded.append(rel_path + "/" if is_dir else rel_path)

    def skip(self, rel_path: str, reason: str) -> None:
        self.skipped_count += 1
        log.info("skipped %r: %s", rel_path, reason)
        if len(self.skipped) < MAX_SKIPPED_LISTED:
            self.skipped.append({"path": rel_path, "reason": reason})

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "files": [entry.to_dict() for entry in self.files],
            "filesTotal": self.files_total,
            "bytesTotal": self.bytes_total,
            "skipped": self.skipped,
            "skippedCount": self.skipped_count,
            "rules": self.rules_report(),
        }

    def rules_report(self) -> dict[str, Any]:
        return (self.rules or RuleSet()).report()


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


def _symlink_target(root: RootDir, rel: str) -> tuple[os.stat_result | None, str | None]:
    """The followed stat of a symlink inside ``root``, or None and why it is skipped."""
    try:
        followed = root.stat(rel)
    except EscapesRoot:
        return None, "symlink to a location outside the backup root (not followed)"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, "symlink loop"
        if exc.errno == errno.ENOENT:
            return None, "broken symlink (its target does not exist)"
        return None, f"symlink cannot be followed: {exc.strerror}"
    if stat.S_ISDIR(followed.st_mode):
        return None, (
            "symlink to a directory (not followed; its target inside the root is backed "
            "up under its own path)"
        )
    if not stat.S_ISREG(followed.st_mode):
        return None, f"symlink to {_special_kind(followed.st_mode)}"
    return followed, None


def _sort_key(entry: os.DirEntry) -> str:
    # A folder's files are named '<folder>/...': sorting the folder as 'name/' puts them
    # where their names sort ('a-b' < 'a/c'), so the walk yields paths in blob-name order.
    try:
        is_dir = entry.is_dir(follow_symlinks=False)
    except OSError:
        is_dir = False
    return entry.name + "/" if is_dir else entry.name


def _read_dir(listing: Listing, dir_fd: int, rel_dir: list[str]) -> list[str]:
    try:
        with os.scandir(dir_fd) as entries:
            keyed = sorted((_sort_key(entry), entry.name) for entry in entries)
        return [name for _, name in keyed]
    except OSError as exc:
        listing.skip(_display(rel_dir) or ".", f"cannot read directory: {_reason(exc)}")
        return []


def _reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def new_listing(root: RootDir, rules: RuleSet | None = None) -> Listing:
    return Listing(root=root.path, rules=rules if rules is not None and not rules.empty else None)


def list_tree(root: str | RootDir, prefix: str = "", rules: RuleSet | None = None) -> Listing:
    """Every file under ``root`` (a resolved path or an open root) that the rules keep, in
    ``listing.files``, in blob-name order. For small trees and checks: a backup streams
    with ``walk_tree``.
    """
    handle = RootDir(root) if isinstance(root, str) else root
    try:
        listing = new_listing(handle, rules)
        listing.files.extend(walk_tree(handle, listing, prefix))
    finally:
        if isinstance(root, str):
            handle.close()
    return listing


def walk_tree(handle: RootDir, listing: Listing, prefix: str = "") -> Iterator[FileEntry]:
    """Every file under the open root that ``listing.rules`` keep, in blob-name order (see
    the module docstring), counted into ``listing`` as it goes. Folders are opened from a
    handle on their parent, never by path; one sorted name list per open level is held.
    """
    top = os.dup(handle.fd)
    # An explicit stack instead of recursion: trees can be deeper than the recursion limit.
    stack: list[tuple[list[str], int, Iterator[str]]] = [
        ([], top, iter(_read_dir(listing, top, [])))
    ]
    try:
        while stack:
            rel_dir, dir_fd, names = stack[-1]
            name = next(names, None)
            if name is None:
                os.close(dir_fd)
                stack.pop()
                continue
            rel_parts = [*rel_dir, name]
            child, entry = _visit(listing, handle, dir_fd, rel_parts, prefix)
            if entry is not None:
                listing.files_total += 1
                listing.bytes_total += entry.size
                yield entry
            elif child is not None:
                stack.append((rel_parts, child, iter(_read_dir(listing, child, rel_parts))))
    finally:
        for _, dir_fd, _ in stack:
            os.close(dir_fd)


def _excluded(rules: RuleSet, info: os.stat_result, rel: str) -> bool:
    # A symlink is tested as a file whatever it points to, as git does.
    if stat.S_ISDIR(info.st_mode):
        return rules.dir_excluded(rel)
    return rules.file_excluded(rel)


def _visit(
    listing: Listing, root: RootDir, dir_fd: int, rel_parts: list[str], prefix: str
) -> tuple[int | None, FileEntry | None]:
    """One entry: (a handle on it when it is a directory to descend into, the file entry
    when it is a file to back up); skipped and excluded entries are recorded."""
    name = rel_parts[-1]
    rel = _display(rel_parts)
    if _has_surrogates(name):
        listing.skip(rel, "the name is not valid UTF-8 and cannot be a blob name")
        return None, None
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as exc:
        listing.skip(rel, f"cannot read: {_reason(exc)}")
        return None, None
    if listing.rules is not None and _excluded(listing.rules, info, rel):
        listing.exclude(rel, info)
        return None, None
    if stat.S_ISLNK(info.st_mode):
        followed, reason = _symlink_target(root, rel)
        if followed is None:
            listing.skip(rel, reason or "symlink")
            return None, None
        info = followed
    elif stat.S_ISDIR(info.st_mode):
        if len(rel_parts) > MAX_DEPTH:
            listing.skip(
                rel,
                f"folder nested more than {MAX_DEPTH} deep (a blob name has at most "
                f"{MAX_PATH_SEGMENTS} segments)",
            )
            return None, None
        try:
            return open_dir_at(dir_fd, name), None
        except OSError as exc:
            # ELOOP/ENOTDIR: it was swapped for something else since the stat above.
            listing.skip(rel, f"cannot read directory: {_reason(exc)}")
            return None, None
    elif not stat.S_ISREG(info.st_mode):
        listing.skip(rel, f"special file: {_special_kind(info.st_mode)}")
        return None, None
    problem = blob_name_problem(blob_name(prefix, rel))
    if problem:
        listing.skip(rel, problem)
        return None, None
    return None, FileEntry(rel, info.st_size, info.st_mtime_ns)
