"""The restore target on disk: opened from a handle, one component at a time, never through a link.

A restore writes names that came from storage into a directory that may already hold files,
folders and symbolic links. Resolving a path string and then opening it would follow a link
planted in the target (``site/uploads -> /etc``) out of it. So every folder is opened with
``O_NOFOLLOW`` relative to the handle of its parent, starting from the allowed restore root,
and missing folders are created the same way (``mkdir`` relative to the parent's handle):
a link anywhere on the way is refused for that file, whatever it points to.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator, Sequence

from sitebackup.paths import containing_root
from sitebackup.restore.names import NameRefused, is_temp_name
from sitebackup.settings import RESTORE_ROOTS

_DIR_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_DIRECTORY", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_NOT_A_FOLDER = (errno.ELOOP, errno.ENOTDIR, errno.EMLINK)
_NO_FOLDER_SYNC = (errno.EINVAL, errno.ENOTSUP)


class TargetRefused(NameRefused):
    """A file cannot be written where its name points (a link or a file on the way)."""


def target_problem(resolved: str, restore_roots: Sequence[str]) -> str | None:
    """Why ``resolved`` (already a real path) may not be a restore target, or None."""
    if not restore_roots:
        return "no restore roots are configured"
    root = containing_root(resolved, restore_roots)
    if root is None:
        return "the target is outside the restore roots"
    if not os.path.isdir(root):
        return f"its restore root {root!r} does not exist (create it, or fix {RESTORE_ROOTS})"
    if os.path.lexists(resolved) and not os.path.isdir(resolved):
        return "the target exists and is not a folder"
    return None


def sync_folder(fd: int) -> None:
    """Flush the folder ``fd`` (its entries: names created, renamed or removed) to disk.

    Some file systems cannot sync a folder and say so with EINVAL; the files themselves were
    flushed already, so that is left as it is rather than failing the restore.
    """
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _NO_FOLDER_SYNC:
            raise


def _open_dir(name: str, parent_fd: int) -> int:
    return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)


def open_below(parent_fd: int, parts: Sequence[str], create: bool, shown: str = "") -> int:
    """A new handle on the folder ``parts`` below ``parent_fd`` (created when ``create``).

    TargetRefused when a component is a link or not a folder; FileNotFoundError when one is
    missing and ``create`` is false.
    """
    fd = os.dup(parent_fd)
    try:
        for depth, name in enumerate(parts):
            try:
                next_fd = _open_dir(name, fd)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(name, 0o777, dir_fd=fd)
                except FileExistsError:
                    pass  # another attempt created it meanwhile (and flushed its parent)
                else:
                    # A new folder's entry must survive a power cut with the files in it.
                    sync_folder(fd)
                next_fd = _open_dir(name, fd)
            except OSError as exc:
                if exc.errno in _NOT_A_FOLDER:
                    where = "/".join([*([shown] if shown else []), *parts[: depth + 1]])
                    raise TargetRefused(
                        f"{where!r} in the target is a symbolic link or not a folder; "
                        "restore does not write through it"
                    ) from None
                raise
            os.close(fd)
            fd = next_fd
        return fd
    except BaseException:
        os.close(fd)
        raise


def open_target(target: str, restore_roots: Sequence[str], create: bool = False) -> int:
    """A handle on the restore target, reached from its restore root without following links.

    ``target`` must be a real path inside one of ``restore_roots`` (the starter resolved it);
    a link swapped in since then is refused rather than followed.
    """
    resolved = os.path.realpath(target)
    if resolved != target:
        problem = "the target's path now goes through a symbolic link"
    else:
        problem = target_problem(resolved, restore_roots)
    root = containing_root(target, restore_roots)
    if problem or root is None:
        raise TargetRefused(f"cannot restore into {target!r}: {problem}")
    root_fd = os.open(root, _DIR_FLAGS)
    try:
        rel = os.path.relpath(target, root)
        parts = [] if rel == "." else rel.split(os.sep)
        return open_below(root_fd, parts, create)
    finally:
        os.close(root_fd)


def open_parent(target_fd: int, parts: Sequence[str]) -> int:
    """A handle on the folder that will hold the file ``parts`` (folders created as needed)."""
    return open_below(target_fd, parts[:-1], create=True)


def leaf_kind(parent_fd: int, leaf: str) -> tuple[str, os.stat_result | None]:
    """What is at ``leaf`` now: 'absent', 'file', 'link', 'folder' or 'other' (no link followed)."""
    try:
        info = os.stat(leaf, dir_fd=parent_fd, follow_symlinks=False)
    except FileNotFoundError:
        return "absent", None
    if stat.S_ISREG(info.st_mode):
        return "file", info
    if stat.S_ISLNK(info.st_mode):
        return "link", info
    if stat.S_ISDIR(info.st_mode):
        return "folder", info
    return "other", info


def sweep_temp_files(target_fd: int) -> list[str]:
    """Remove restore's temporary files left anywhere below the target; their paths.

    Walks by handle without following links, so a link in the target cannot lead the sweep
    to delete files outside it.
    """
    removed: list[str] = []
    for rel_dir, fd in _walk(target_fd, ""):
        try:
            with os.scandir(fd) as entries:
                names = [
                    entry.name
                    for entry in entries
                    if is_temp_name(entry.name) and entry.is_file(follow_symlinks=False)
                ]
            for name in names:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=fd)
                    removed.append(f"{rel_dir}{name}")
        finally:
            os.close(fd)
    return removed


def _walk(top_fd: int, rel_dir: str) -> Iterator[tuple[str, int]]:
    """(relative folder, its own handle) for every folder below ``top_fd`` and itself.

    Folders are opened one at a time from ``top_fd`` (a wide folder must not hold a handle
    per subfolder); the caller closes each handle it receives.
    """
    stack: list[list[str]] = [[]]
    while stack:
        parts = stack.pop()
        try:
            fd = open_below(top_fd, parts, create=False)
        except (OSError, NameRefused):
            continue  # gone or replaced by a link since it was listed: nothing to sweep
        try:
            with os.scandir(fd) as entries:
                stack.extend(
                    [*parts, entry.name] for entry in entries if entry.is_dir(follow_symlinks=False)
                )
        except OSError:
            os.close(fd)
            continue
        yield rel_dir + "".join(f"{part}/" for part in parts), fd
