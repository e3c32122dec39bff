"""The local host (a subprocess) serving the real app on a real Azurite, with a default
exclude setting, for the include/exclude and dry-run tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.host_process import HostProcess, running_host

PROJECT_DIR = Path(__file__).resolve().parents[3]
# The app setting every backup of this host starts from (BACKUP_EXCLUDE).
DEFAULT_EXCLUDES = ["*.tmp", "node_modules/"]


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("roots")


@pytest.fixture(scope="module")
def host(azurite, roots, tmp_path_factory) -> Iterator[HostProcess]:
    env = {
        "AzureWebJobsStorage": azurite.connection_string,
        "BACKUP_STORAGE_CONNECTION": azurite.connection_string,
        "BACKUP_ALLOWED_ROOTS": str(roots),
        "BACKUP_EXCLUDE": ",".join(DEFAULT_EXCLUDES),
    }
    with running_host(PROJECT_DIR, tmp_path_factory.mktemp("host-state"), env=env) as running:
        yield running
