"""Fixtures of the reliability suite: an allowed root, and the backup app on the local host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.host_process import HostProcess, running_host

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def allowed_root(tmp_path: Path) -> Path:
    """The one directory backups may read from (BACKUP_ALLOWED_ROOTS)."""
    root = tmp_path / "roots"
    root.mkdir()
    return root


@pytest.fixture
def host_env(storage_connection_string: str, allowed_root: Path) -> dict[str, str]:
    return {
        "AzureWebJobsStorage": storage_connection_string,
        "BACKUP_ALLOWED_ROOTS": str(allowed_root),
    }


@pytest.fixture
def backup_host(tmp_path: Path, host_env: dict[str, str]) -> Iterator[HostProcess]:
    """The backup app served by the local host, on free ports, with its own task hub."""
    with running_host(PROJECT_DIR, tmp_path / "state", env=host_env) as host:
        yield host
