"""A source tree with the names and sizes that break naive backups, and its expected totals."""

from __future__ import annotations

import os
import random
from pathlib import Path

MULTI_MB = 5 * 1024 * 1024 + 123


def build_site(root: Path, seed: int = 7) -> dict[str, int]:
    """Write the tree under ``root``; returns {relative POSIX path: size}.

    Nested folders, the same file name in several folders, spaces and non-ASCII letters in
    folder and file names, empty files, and one multi-megabyte file.
    """
    rng = random.Random(seed)
    files: dict[str, bytes] = {
        "index.html": b"<h1>home</h1>\n",
        "about/index.html": b"<h1>about</h1>\n",
        "blog/2026/index.html": b"<h1>blog</h1>\n",
        "blog/2026/premi\u00e8re note.md": "premi\u00e8re\n".encode(),
        "\u00fcber uns/caf\u00e9 \u2615.txt": "caf\u00e9\n".encode(),
        "a b/c d/read me.txt": b"spaces all the way\n",
        "a b/c d/empty": b"",
        "empty at root": b"",
        "assets/images/logo.svg": b"<svg/>\n",
        "assets/data/big.bin": rng.randbytes(MULTI_MB),
        "deep/1/2/3/4/5/6/leaf.txt": b"leaf\n",
    }
    for index in range(20):
        files[f"notes/n{index:02d}/index.html"] = rng.randbytes(rng.randint(1, 4096))
    for rel, data in files.items():
        path = root.joinpath(*rel.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return {rel: len(data) for rel, data in files.items()}


def change_same_size(path: Path) -> None:
    """New content of the same length, and a new mtime: only the MD5 can tell."""
    data = bytearray(path.read_bytes())
    data[0] = (data[0] + 1) % 256
    path.write_bytes(bytes(data))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
