"""Swap two directory entries atomically, over and over: renameat2(RENAME_EXCHANGE).

Any user who may write into a folder of the backup root can do this. With a folder and a
symlink to somewhere outside the root, each exchange flips which of the two names is the
folder and which is the link, so a backup that checks a path and then opens it by name can
be led outside the root in between.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from pathlib import Path

AT_FDCWD = -100
RENAME_EXCHANGE = 2
# x86_64 and aarch64 syscall numbers, for a libc without a renameat2 wrapper.
_SYS_RENAMEAT2 = {"x86_64": 316, "aarch64": 276}

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def _renameat2():
    """libc's renameat2, or the raw system call where libc has no wrapper."""
    if hasattr(_libc, "renameat2"):
        return _libc.renameat2
    number = _SYS_RENAMEAT2.get(os.uname().machine)
    if number is None:
        raise OSError(0, "no renameat2 system call known for this machine")
    return lambda *args: _libc.syscall(number, *args)


def exchange(first: Path, second: Path) -> None:
    """Exchange two entries atomically; OSError when the kernel or file system refuses."""
    result = _renameat2()(
        AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE
    )
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


class Swapper(threading.Thread):
    """Exchanges two entries in a tight loop until stopped; counts the exchanges.

    ctypes drops the GIL around each call, and the backup runs in another process, so the
    loop flips the entries as fast as the kernel allows.
    """

    def __init__(self, first: Path, second: Path) -> None:
        super().__init__(daemon=True)
        self.first = os.fsencode(first)
        self.second = os.fsencode(second)
        self.swaps = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        call = _renameat2()
        a, b = self.first, self.second
        while not self._stop_event.is_set():
            for _ in range(1000):
                call(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)
            self.swaps += 1000

    def stop(self) -> None:
        """Stop, leaving an even number of exchanges (the entries where they began)."""
        self._stop_event.set()
        self.join()
