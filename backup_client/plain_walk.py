"""``verify``'s own view of a local tree: a plain ``os.walk`` and its own blob names.

Deliberately independent of the backup app's listing and naming code (``sitebackup``): a file
the app wrongly leaves out, or stores under a wrong name, then shows up as missing instead of
being invisible to the check. The rules written here are the documented ones: every regular
file under the root, links followed only while they stay inside the root, and the blob of
``a/b.txt`` is ``<prefix>/a/b.txt``.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from backup_client.verify import LocalFile

__all__ = ["PlainTree", "expected_blob_name", "expected_prefix", "walk_plain"]


@dataclass
class PlainTree:
    files: list[LocalFile] = field(default_factory=list)
    # Entries that are not files to compare (special files, links out of the root), and why.
    not_files: list[tuple[str, str]] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (rel_path, error)


def expected_prefix(root: Path, prefix: str | None) -> str:
    """The prefix a backup of ``root`` uses: the one given, else the root folder's name."""
    text = os.path.basename(os.path.normpath(str(root))) if prefix is None else prefix
    return "/".join(part for part in text.replace("\\", "/").split("/") if part)


def expected_blob_name(prefix: str, rel_path: str) -> str:
    return f"{prefix}/{rel_path}" if prefix else rel_path


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def walk_plain(root: Path) -> PlainTree:
    real_root = os.path.realpath(root)
    tree = PlainTree()
    seen: set[tuple[int, int]] = set()  # folders reached twice through links are walked once

    def rel(path: str) -> str:
        return os.path.relpath(path, real_root).replace(os.sep, "/")

    def failed(error: OSError) -> None:
        tree.unreadable.append((rel(error.filename or real_root), error.strerror or str(error)))

    for folder, dirs, names in os.walk(real_root, followlinks=True, onerror=failed):
        try:
            info = os.stat(folder)
        except OSError as error:
            failed(error)
            dirs[:] = []
            continue
        if (info.st_dev, info.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        kept = []
        for name in sorted(dirs):
            path = os.path.join(folder, name)
            if os.path.islink(path) and not _inside(os.path.realpath(path), real_root):
                tree.not_files.append((rel(path), "a link to a folder outside the root"))
            else:
                kept.append(name)
        dirs[:] = kept
        for name in sorted(names):
            path = os.path.join(folder, name)
            if os.path.islink(path) and not _inside(os.path.realpath(path), real_root):
                tree.not_files.append((rel(path), "a link that leads outside the root"))
                continue
            try:
                info = os.stat(path)
            except OSError as error:
                tree.not_files.append((rel(path), error.strerror or str(error)))
                continue
            if not stat.S_ISREG(info.st_mode):
                tree.not_files.append((rel(path), "not a regular file"))
                continue
            tree.files.append(LocalFile(rel(path), info.st_size, path))
    return tree
