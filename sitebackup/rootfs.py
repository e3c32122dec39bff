"""Open files and folders below a backup root without ever leaving it.

Checking a path with ``realpath`` and then opening it by name leaves a window: a folder on
the way can be swapped for a symlink in between (``renameat2(RENAME_EXCHANGE)`` does it
atomically), and the open follows the link out of the root. Here nothing is opened by a
path: every component is opened relative to a handle on the folder above it, with
``O_NOFOLLOW`` (and ``O_DIRECTORY`` for folders), so the kernel itself refuses a link
wherever one appears. A symlink met on the way is read (``readlinkat``) and its target
walked the same way from the handles already held, ``..`` going back one held handle: what
``openat2(RESOLVE_IN_ROOT)`` does in the kernel, which Python does not expose. A target
that would climb above the root, or an absolute target outside it, is refused.

Every failure is an ``OSError`` about that one path (``EscapesRoot`` for a way out), so a
caller reports the file and goes on.
"""

from __future__ import annotations

import errno
import os
import stat
from collections import deque

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
# O_NONBLOCK: a file replaced by a named pipe must not hang the reader.
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC
# Linux's own limit of symlinks in one path lookup.
MAX_LINKS = 40


class EscapesRoot(OSError):
    """The path (or a symlink on it) leads outside the backup root."""

    def __init__(self, what: str = "the path leads outside the backup root") -> None:
        super().__init__(errno.EXDEV, what)


def open_dir_at(dir_fd: int, name: str) -> int:
    """A handle on the folder ``name`` in ``dir_fd``; fails if it is a link or not a folder."""
    return os.open(name, DIR_FLAGS, dir_fd=dir_fd)


def open_beneath(base: str, rel_parts: list[str]) -> int:
    """A handle on ``base/<rel_parts>``, each part opened without following links.

    ``base`` must already be resolved (an allowed root); this is how a backup root below it
    is opened, so a folder swapped between the starter's check and the activity cannot
    redirect the whole backup.
    """
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
    try:
        for part in rel_parts:
            if part in ("", "."):
                continue
            if part == "..":
                raise EscapesRoot
            next_fd = open_dir_at(fd, part)
            os.close(fd)
            fd = next_fd
    except BaseException:
        os.close(fd)
        raise
    return fd


class RootDir:
    """An open handle on a backup root, and lookups confined to it.

    ``path`` is the root's resolved path: it only serves to recognise absolute symlink
    targets that point back inside the root.
    """

    def __init__(self, path: str, fd: int | None = None) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC) if fd is None else fd

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> RootDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _inside(self, target: str) -> list[str]:
        """An absolute symlink target as parts relative to the root, or EscapesRoot."""
        root = self.path.rstrip("/")
        if target != root and not target.startswith(root + "/"):
            raise EscapesRoot("a symlink on the path points outside the backup root")
        return target[len(root) :].split("/")

    def locate(self, rel_path: str) -> tuple[int, str]:
        """(a handle on the folder holding the final entry, the entry's name), every symlink
        on the way, the final one included, resolved inside the root. The caller closes the
        handle. The entry itself is not opened: it may be anything, even missing.
        """
        stack = [os.dup(self.fd)]
        pending = deque(rel_path.split("/"))
        links = 0
        try:
            while pending:
                name = pending.popleft()
                if name in ("", "."):
                    continue
                if name == "..":
                    if len(stack) == 1:
                        raise EscapesRoot("a symlink on the path climbs above the backup root")
                    os.close(stack.pop())
                    continue
                info = os.stat(name, dir_fd=stack[-1], follow_symlinks=False)
                if stat.S_ISLNK(info.st_mode):
                    links += 1
                    if links > MAX_LINKS:
                        raise OSError(errno.ELOOP, "too many levels of symbolic links")
                    target = os.readlink(name, dir_fd=stack[-1])
                    if os.path.isabs(target):
                        parts = self._inside(target)
                        while len(stack) > 1:
                            os.close(stack.pop())
                    else:
                        parts = target.split("/")
                    pending.extendleft(reversed(parts))
                    continue
                if not pending:
                    return self._keep_last(stack), name
                # O_NOFOLLOW|O_DIRECTORY: if the entry became a link since the stat above,
                # this fails instead of following it.
                stack.append(open_dir_at(stack[-1], name))
            # The path ended on a folder reached through '.' or '..' (or was empty).
            return self._keep_last(stack), "."
        except BaseException:
            for fd in stack:
                os.close(fd)
            raise

    @staticmethod
    def _keep_last(stack: list[int]) -> int:
        for fd in stack[:-1]:
            os.close(fd)
        last = stack[-1]
        stack.clear()
        return last

    def stat(self, rel_path: str) -> os.stat_result:
        """What ``rel_path`` is once symlinks are followed inside the root (not opened)."""
        dir_fd, name = self.locate(rel_path)
        try:
            return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        finally:
            os.close(dir_fd)

    def open_file(self, rel_path: str) -> int:
        """A read-only handle on ``rel_path`` (symlinks followed inside the root only)."""
        dir_fd, name = self.locate(rel_path)
        try:
            return os.open(name, FILE_FLAGS | getattr(os, "O_BINARY", 0), dir_fd=dir_fd)
        finally:
            os.close(dir_fd)
