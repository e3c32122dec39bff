"""Read the ``.backupignore`` file at the root of a tree (the I/O half of the rules)."""

from __future__ import annotations

import errno
import os
import stat

from sitebackup.errors import RuleError
from sitebackup.rules import IGNORE_FILE, MAX_IGNORE_FILE_BYTES, Rule, parse_ignore_file


def read_rules(root: str | int) -> list[Rule]:
    """The rules in ``.backupignore`` under ``root`` (a path, or a handle on the root folder
    as the walk holds it); none when there is no such file.

    The file is opened without following a symlink, so a link cannot make the app read a
    file outside the tree; a link or anything but a regular file is a RuleError.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        if isinstance(root, int):
            fd = os.open(IGNORE_FILE, flags, dir_fd=root)
        else:
            fd = os.open(os.path.join(root, IGNORE_FILE), flags)
    except FileNotFoundError:
        return []
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RuleError(f"{IGNORE_FILE} is a symlink; make it a regular file") from None
        raise RuleError(f"cannot read {IGNORE_FILE}: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise RuleError(f"{IGNORE_FILE} is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_IGNORE_FILE_BYTES + 1)
    except OSError as exc:
        raise RuleError(f"cannot read {IGNORE_FILE}: {exc.strerror}") from None
    finally:
        os.close(fd)
    return parse_ignore_file(data)
