"""A fresh in-memory Azurite per measured phase, and unique container names.

In-memory Azurite keeps deleted data for minutes and slows as it grows, so every phase (the
ceiling of one tree, our backups of one tree, the engine) gets an emulator of its own.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from devhost import azurite as azurite_launcher

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent
_counter = itertools.count(1)


@contextlib.contextmanager
def fresh_azurite(workdir: Path) -> Iterator[azurite_launcher.Azurite]:
    """An in-memory Azurite blob service on a free loopback port, stopped on exit."""
    server = azurite_launcher.start(workdir, services=("blob",), project_dir=PROJECT_DIR)
    log.info("azurite: pid %d, blob port %d", server.process.pid, server.ports["blob"])
    try:
        yield server
    finally:
        server.stop()


def container_name(label: str) -> str:
    """A container name no earlier run used: lowercase letters, digits and dashes."""
    clean = "".join(c for c in label.lower() if c.isalnum())[:30] or "bench"
    return f"{clean}-{os.getpid()}-{next(_counter)}"
