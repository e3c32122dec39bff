"""A tree with everything a real disk throws at a backup, and what each entry should become.

Link loops, links out of the root, broken links, a path longer than a blob name may be, too
many path segments, special files, names with characters blob storage forbids, rewrites or
escapes, Unicode look-alikes, undecodable bytes; optionally entries nobody may read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from faults.trees import FileFacts, md5_of_file

# Names that must round-trip exactly or be reported: each one has tripped some backup program.
ODD_NAMES = (
    "trailing-dot.",
    "trailing space ",
    " leading space.txt",
    "percent %2F and %25.txt",
    "hash#question?.txt",
    "plus+amp&equals=.txt",
    "semi;colon,comma.txt",
    "quote\"apostrophe'.txt",
    "<angle>|pipe*star.txt",
    "colon:name.txt",
    "back\\slash.txt",  # Linux allows it; the Blob service turns it into '/'
    "tab\tname.txt",
    "new\nline.txt",
    "bell\x07.txt",
    "del\x7f.txt",
    "caf\u00e9.txt",  # NFC
    "cafe\u0301.txt",  # NFD: looks the same, is another file
    "emoji-\U0001f600.txt",
    "rtl-\u202eexe.txt",
    "zero\u200bwidth.txt",
    "CON",
    "...",
    "~$lock",
    "-dash",
    "x" * 255,
)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8", "surrogateescape"))


def build_messy_tree(root: Path, outside: Path, unreadable: bool = False) -> None:
    """Fill ``root`` (created); ``outside`` is a folder beside it that links point into."""
    root.mkdir(parents=True)
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.txt").write_text("outside the root: never copy")
    _write(root / "index.html", "<h1>ok</h1>")
    _write(root / "empty.txt", "")
    _write(root / "back" / "slash.txt", "the real back/slash.txt")
    for index, name in enumerate(ODD_NAMES):
        _write(root / "odd" / name, f"odd file {index}: {name!r}")
    bad = os.fsencode(root / "odd") + b"/bad-\xff\xfe-name.txt"
    with open(bad, "wb") as handle:
        handle.write(b"undecodable name")
    # Links: loops, escapes, dangling, and one good link to a file inside the root.
    (root / "links").mkdir()
    (root / "links" / "self").symlink_to("self")
    (root / "links" / "ping").symlink_to("pong")
    (root / "links" / "pong").symlink_to("ping")
    (root / "links" / "up").symlink_to("..", target_is_directory=True)
    (root / "links" / "root").symlink_to(root, target_is_directory=True)
    (root / "links" / "escape-file").symlink_to(outside / "secret.txt")
    (root / "links" / "escape-dir").symlink_to(outside, target_is_directory=True)
    (root / "links" / "dangling").symlink_to("nowhere")
    (root / "links" / "to-index.html").symlink_to("../index.html")
    # Longer than a blob name may be (1,024 characters), though fine for the file system.
    long_dir = root.joinpath(*(["d" * 200] * 6))
    _write(long_dir / "too-long.txt", "too long a name")
    # More path segments than a blob name may have (254).
    deep = root.joinpath(*(["s"] * 260))
    _write(deep / "too-deep.txt", "too deep")
    os.mkfifo(root / "a-named-pipe")
    if unreadable:
        _write(root / "locked" / "hidden.txt", "in a folder nobody may read")
        _write(root / "no-read.txt", "a file nobody may read")
        (root / "no-read.txt").chmod(0)
        (root / "locked").chmod(0)


def expected_entries(root: Path) -> dict[str, FileFacts | None]:
    """Every non-directory entry under ``root`` (links not followed) -> what a faithful
    backup holds for it: the bytes of a regular file or of a link to one inside the root;
    None when it cannot be backed up and must be reported. Unreadable folders map to None.
    """
    entries: dict[str, FileFacts | None] = {}
    real_root = os.path.realpath(root)
    stack = [""]
    while stack:
        relative_dir = stack.pop()
        folder = os.path.join(root, relative_dir)
        try:
            names = os.listdir(folder)
        except PermissionError:
            entries[relative_dir] = None
            continue
        for name in names:
            relative = f"{relative_dir}/{name}" if relative_dir else name
            path = os.path.join(root, relative)
            info = os.lstat(path)
            if stat.S_ISDIR(info.st_mode):
                if not os.access(path, os.R_OK | os.X_OK) or info.st_mode & 0o777 == 0:
                    entries[relative] = None
                else:
                    stack.append(relative)
                continue
            entries[relative] = _facts(path, info, real_root)
    return entries


def _facts(path: str, info: os.stat_result, real_root: str) -> FileFacts | None:
    if stat.S_ISLNK(info.st_mode):
        target = os.path.realpath(path)
        inside = os.path.commonpath([real_root, target]) == real_root
        if not inside or not os.path.isfile(target):
            return None
        return FileFacts(os.path.getsize(target), md5_of_file(Path(target)))
    if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o777 == 0:
        return None
    return FileFacts(info.st_size, md5_of_file(Path(path)))


def display_forms(relative: str) -> set[str]:
    """The ways a report may spell a path whose name is not valid UTF-8."""
    forms = {relative}
    raw = relative.encode("utf-8", "surrogateescape")
    forms.add(raw.decode("utf-8", "backslashreplace"))
    forms.add(relative.encode("utf-8", "backslashreplace").decode("utf-8"))
    forms.add(raw.decode("utf-8", "replace"))
    return forms
