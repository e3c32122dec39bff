"""One host process per test app and module: starting one costs about a second."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.host_process import HostProcess, running_host

APPS = Path(__file__).resolve().parents[2] / "apps"


def _host(name: str, factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    with running_host(APPS / name, factory.mktemp(name)) as host:
        yield host


@pytest.fixture(scope="module")
def hello_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    yield from _host("hello_sequence", tmp_path_factory)


@pytest.fixture(scope="module")
def features_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    yield from _host("features", tmp_path_factory)


@pytest.fixture(scope="module")
def fan_out_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    yield from _host("fan_out", tmp_path_factory)


@pytest.fixture(scope="module")
def broken_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    yield from _host("broken", tmp_path_factory)


@pytest.fixture(scope="module")
def entities_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    yield from _host("entities", tmp_path_factory)
