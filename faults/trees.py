"""Deterministic source trees to back up, and what their files hold.

A tree is nested folders of small files with the names a real site has: the same file name
in many folders, spaces, non-ASCII letters, empty files. The same seed gives the same tree,
so a failing run can be rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass
from pathlib import Path

# Names that repeat across folders: collisions are what a flattening blob namer gets wrong.
_FILE_STEMS = ("index", "logo", "style", "read me", "café", "data", "notes", "page")
_EXTENSIONS = (".html", ".css", ".js", ".txt", ".json", ".svg", ".md")
_DIR_NAMES = ("assets", "blog", "img", "docs", "2026", "über uns", "a b", "x")


@dataclass(frozen=True)
class FileFacts:
    size: int
    md5: str  # hex digest of the content


Manifest = dict[str, FileFacts]  # POSIX path relative to the root -> facts


def md5_of_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def build_tree(
    root: Path,
    files: int,
    seed: int = 0,
    max_size: int = 2048,
    folders: int | None = None,
) -> Manifest:
    """Write ``files`` files under ``root`` (created) and return their manifest.

    Files spread over about ``sqrt(files)`` folders nested up to four deep; one in forty
    is empty. Sizes are uniform in ``[1, max_size]`` otherwise.
    """
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    folder_count = folders or max(1, int(files**0.5))
    dirs = [Path()]
    for index in range(folder_count - 1):
        parent = rng.choice([d for d in dirs if len(d.parts) < 4])
        dirs.append(parent / f"{rng.choice(_DIR_NAMES)} {index:03d}")
    manifest: Manifest = {}
    for index in range(files):
        folder = dirs[index % len(dirs)]
        name = f"{rng.choice(_FILE_STEMS)}-{index // len(dirs):04d}{rng.choice(_EXTENSIONS)}"
        relative = folder / name
        size = 0 if index % 40 == 7 else rng.randint(1, max_size)
        content = rng.randbytes(size)
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        manifest[relative.as_posix()] = FileFacts(size, hashlib.md5(content).hexdigest())
    return manifest


def scan_tree(root: Path) -> Manifest:
    """The manifest of whatever regular files are under ``root`` now (symlinks not followed)."""
    manifest: Manifest = {}
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            relative = path.relative_to(root).as_posix()
            manifest[relative] = FileFacts(path.stat().st_size, md5_of_file(path))
    return manifest


def total_bytes(manifest: Manifest) -> int:
    return sum(facts.size for facts in manifest.values())
