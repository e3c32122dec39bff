"""Malformed requests: each gets a 4xx with a message, starts nothing, and the host goes on.

One host serves the whole module; each request is its own test case, so a report names
exactly the inputs that are mishandled.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from faults.trees import scan_tree, total_bytes
from tests.reliability.backups import backup_problems, list_instances, start_backup, started
from tests.reliability.bad_requests import BadRequest, Playground, bad_requests, build_playground
from tests.reliability.conftest import PROJECT_DIR
from tests.support.host_process import HostProcess, running_host

_PLACEHOLDER = Playground(*(Path("/placeholder"),) * 6)
LABELS = [request.label for request in bad_requests(_PLACEHOLDER)]
MAX_ERROR_BODY = 4096
# The container requests without one would write to: this module's own.
DEFAULT_CONTAINER = "bad-input-" + uuid.uuid4().hex[:12]


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Playground:
    return build_playground(tmp_path_factory.mktemp("playground"))


@pytest.fixture(scope="module")
def module_host(
    tmp_path_factory: pytest.TempPathFactory, azurite, playground: Playground
) -> Iterator[HostProcess]:
    env = {
        "AzureWebJobsStorage": azurite.connection_string,
        "BACKUP_ALLOWED_ROOTS": str(playground.root),
        "BACKUP_CONTAINER": DEFAULT_CONTAINER,
    }
    with running_host(PROJECT_DIR, tmp_path_factory.mktemp("state"), env=env) as host:
        yield host


def message_of(body: bytes) -> str:
    """The explanation in an error body: the JSON ``error``/``Message`` or the text itself."""
    try:
        value = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()
    if isinstance(value, dict):
        for key in ("error", "Message", "ExceptionMessage", "message"):
            if isinstance(value.get(key), str) and value[key].strip():
                return value[key]
    return ""


def send(host: HostProcess, request: BadRequest):
    return host.request(request.method, request.path, request.body, request.headers, timeout=60)


def test_the_list_is_long_enough() -> None:
    assert len(LABELS) >= 30
    assert len(set(LABELS)) == len(LABELS), "labels name the test cases: keep them unique"


@pytest.mark.parametrize("label", LABELS)
def test_malformed_request_gets_a_4xx_with_a_message(
    module_host: HostProcess, playground: Playground, label: str
) -> None:
    request = next(r for r in bad_requests(playground) if r.label == label)
    answer = send(module_host, request)
    assert answer.status in request.statuses, (
        f"{label}: HTTP {answer.status}, expected a 4xx; body {answer.body[:300]!r}\n"
        f"host log tail:\n{module_host.log_tail(2000)}"
    )
    if request.needs_message:
        assert message_of(answer.body), f"{label}: HTTP {answer.status} with no message"
    # A message, not an echo: whatever the caller sent, the answer stays small.
    assert len(answer.body) <= MAX_ERROR_BODY, (
        f"{label}: a {len(answer.body)}-byte error body: {answer.body[:200]!r}..."
    )
    assert module_host.running, f"host died after {label!r}:\n{module_host.log_tail()}"


def test_malformed_requests_start_nothing_and_the_host_keeps_serving(
    module_host: HostProcess,
    playground: Playground,
    storage_connection_string: str,
    unique_name: str,
) -> None:
    for request in bad_requests(playground):
        send(module_host, request)
    assert module_host.running, module_host.log_tail()
    assert list_instances(module_host) == []
    # Nothing reached storage: the requests' default container was never even created.
    service = BlobServiceClient.from_connection_string(storage_connection_string)
    assert not service.get_container_client(DEFAULT_CONTAINER).exists()
    # And the host still does its job.
    _, url = started(start_backup(module_host, playground.site, unique_name))
    final = module_host.wait_for_status(url, timeout=60)
    manifest = scan_tree(playground.site)
    assert final["runtimeStatus"] == "Completed", final
    assert final["output"] == total_bytes(manifest)
    assert backup_problems(storage_connection_string, unique_name, "site", manifest) == []
