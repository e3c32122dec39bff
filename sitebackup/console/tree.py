"""One snapshot's file tree, folder by folder, for lazy browsing (pure).

A manifest lists files only, in no particular order across pages. ``build`` turns the
entries into nested folders that know their total file count and size, so the page can
open any folder of a 100,000-file snapshot and get one screenful of it (``listing``),
without the browser ever holding the whole list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Folder:
    folders: dict[str, Folder] = field(default_factory=dict)
    files: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (size, mtime ns)
    file_count: int = 0  # every file below, at any depth
    byte_count: int = 0


class NotInSnapshot(LookupError):
    """The folder asked for is not in the snapshot."""


def build(entries: Iterable[Any]) -> Folder:
    """Folders from manifest entries (anything with ``path``, ``size``, ``mtime_ns``)."""
    root = Folder()
    for entry in entries:
        *parents, name = entry.path.split("/")
        folder = root
        folder.file_count += 1
        folder.byte_count += entry.size
        for part in parents:
            folder = folder.folders.setdefault(part, Folder())
            folder.file_count += 1
            folder.byte_count += entry.size
        folder.files[name] = (entry.size, entry.mtime_ns)
    return root


def find(root: Folder, path: str) -> Folder:
    folder = root
    for part in [part for part in path.strip("/").split("/") if part]:
        child = folder.folders.get(part)
        if child is None:
            raise NotInSnapshot(path)
        folder = child
    return folder


def listing(root: Folder, path: str, offset: int, limit: int) -> dict[str, Any]:
    """One page of a folder: its sub-folders (with totals) first, then its files, by name."""
    folder = find(root, path)
    base = "/".join(part for part in path.strip("/").split("/") if part)
    names = sorted(folder.folders)
    files = sorted(folder.files)
    total = len(names) + len(files)
    end = min(total, offset + limit)
    items: list[dict[str, Any]] = []
    for index in range(offset, end):
        if index < len(names):
            name = names[index]
            child = folder.folders[name]
            items.append(
                {
                    "type": "folder",
                    "name": name,
                    "path": f"{base}/{name}" if base else name,
                    "files": child.file_count,
                    "bytes": child.byte_count,
                }
            )
        else:
            name = files[index - len(names)]
            size, mtime_ns = folder.files[name]
            items.append(
                {
                    "type": "file",
                    "name": name,
                    "path": f"{base}/{name}" if base else name,
                    "bytes": size,
                    "mtimeNs": mtime_ns,
                }
            )
    return {
        "path": base,
        "items": items,
        "offset": offset,
        "total": total,
        "next": end if end < total else None,
        "files": folder.file_count,
        "bytes": folder.byte_count,
    }
