"""Fixtures shared by every suite: a real Azurite on a free port, unique names."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost import azurite as azurite_launcher

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[azurite_launcher.Azurite]:
    """One in-memory Azurite blob service for the whole session, on a port the OS chose."""
    workdir = tmp_path_factory.mktemp("azurite")
    server = azurite_launcher.start(workdir, services=("blob",), project_dir=PROJECT_DIR)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def storage_connection_string(azurite: azurite_launcher.Azurite) -> str:
    return azurite.connection_string


@pytest.fixture
def unique_name() -> str:
    """A name no other test uses: fit for a container, a prefix or an instance id."""
    return "t" + uuid.uuid4().hex[:20]
