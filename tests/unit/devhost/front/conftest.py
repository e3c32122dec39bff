"""The front's tests share one loaded test app per module."""

from collections.abc import Iterator

import pytest

from devhost.functions.app import FunctionApp
from tests.unit.devhost.front.serving import load


@pytest.fixture(scope="module")
def app() -> Iterator[FunctionApp]:
    loaded = load("features")
    yield loaded
    loaded.close()
