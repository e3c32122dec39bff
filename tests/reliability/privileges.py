"""Run the host like an ordinary user would, so that permission bits mean something.

Tests run as root in containers, and root reads every file whatever its mode. Dropping the
two capabilities that let it do so (``setpriv``, util-linux) makes a mode-000 file unreadable
to the host while everything else stays as it is.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from tests.support.host_process import HostProcess

_DROP = "-dac_override,-dac_read_search"


def unprivileged_prefix() -> list[str] | None:
    """The command prefix that makes permission bits apply, or None when none is available."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [setpriv, "--bounding-set", _DROP, "--"]


@dataclass
class UnprivilegedHost(HostProcess):
    """A host process whose file reads obey permission bits (setpriv execs: same pid)."""

    prefix: tuple[str, ...] = ()

    def command(self) -> list[str]:
        return [*self.prefix, *super().command()]
