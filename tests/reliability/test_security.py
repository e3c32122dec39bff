"""Security defaults: loopback only, allowed roots required, no secret in any output.

The starter is not the only way in: the Durable HTTP API can start any orchestrator with any
input, so these tests also go around the starter and check the activities hold the line.
"""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from azure.storage.blob import BlobServiceClient

from devhost.azurite import ACCOUNT_KEY
from faults.trees import build_tree
from tests.reliability.backups import JSON, list_instances, start_backup, started
from tests.reliability.conftest import PROJECT_DIR
from tests.support.host_process import HostProcess, running_host

WEBHOOKS = "/runtime/webhooks/durabletask"
# A key nobody uses: if any of its text shows up anywhere, a secret leaked.
FAKE_KEY = base64.b64encode(b"this-key-must-never-be-printed-anywhere-0123456789abcdef").decode()


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    connections = psutil.Process(pid).net_connections(kind="inet")
    return {(c.laddr.ip, c.laddr.port) for c in connections if c.status == psutil.CONN_LISTEN}


def non_loopback_addresses() -> list[str]:
    found = []
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not address.address.startswith("127."):
                found.append(address.address)
    return found


def refuses(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=2):
            return False
    except OSError:
        return True


def test_the_host_listens_on_loopback_only_by_default(backup_host: HostProcess) -> None:
    listening = listening_addresses(backup_host.pid)
    assert len(listening) >= 2, f"expected the public and the RPC listener, got {listening}"
    assert {ip for ip, _ in listening} <= {"127.0.0.1", "::1"}, listening
    assert backup_host.url.startswith("http://127.0.0.1:")
    for address in non_loopback_addresses():
        for _, port in listening:
            assert refuses(address, port), f"port {port} answers on {address}"


def test_the_bind_address_is_honoured_when_given(tmp_path: Path, host_env: dict) -> None:
    # Another loopback address: shows the option is obeyed without leaving the machine.
    with running_host(PROJECT_DIR, tmp_path / "state", host_env, ["--host", "127.0.0.2"]) as host:
        public_port = int(host.url.rsplit(":", 1)[1])
        assert ("127.0.0.2", public_port) in listening_addresses(host.pid)
        assert refuses("127.0.0.1", public_port)


@pytest.fixture
def host_without_roots(tmp_path: Path, storage_connection_string: str) -> Iterator[HostProcess]:
    env = {"AzureWebJobsStorage": storage_connection_string, "BACKUP_ALLOWED_ROOTS": ""}
    with running_host(PROJECT_DIR, tmp_path / "state", env=env) as host:
        yield host


def test_without_allowed_roots_nothing_is_backed_up_and_the_message_says_how(
    host_without_roots: HostProcess, tmp_path: Path, unique_name: str
) -> None:
    site = tmp_path / "site"
    build_tree(site, 5)
    answer = start_backup(host_without_roots, site, unique_name)
    assert 400 <= answer.status < 500, (answer.status, answer.body)
    message = answer.json()["error"]
    assert "BACKUP_ALLOWED_ROOTS" in message and "set" in message, message
    assert list_instances(host_without_roots) == []


def test_without_allowed_roots_a_backup_started_around_the_starter_fails(
    host_without_roots: HostProcess,
    tmp_path: Path,
    storage_connection_string: str,
    unique_name: str,
) -> None:
    site = tmp_path / "site"
    build_tree(site, 5)
    body = json.dumps({"path": str(site), "container": unique_name})
    answer = host_without_roots.request(
        "POST", f"{WEBHOOKS}/orchestrators/E2_BackupSiteContent", body, JSON
    )
    _, url = started(answer)
    final = host_without_roots.wait_for_status(url, timeout=60)
    assert final["runtimeStatus"] == "Failed", final
    assert "BACKUP_ALLOWED_ROOTS" in json.dumps(final["output"]), final["output"]
    assert _blob_names(storage_connection_string, unique_name) == []


def test_the_durable_api_cannot_copy_outside_the_allowed_roots(
    backup_host: HostProcess,
    allowed_root: Path,
    tmp_path: Path,
    storage_connection_string: str,
    unique_name: str,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("never copy me")
    site = allowed_root / "site"
    build_tree(site, 3)
    (site / "escape").symlink_to(outside, target_is_directory=True)
    # The parent orchestrator, pointed outside the root.
    body = json.dumps({"path": str(outside), "container": unique_name})
    answer = backup_host.request(
        "POST", f"{WEBHOOKS}/orchestrators/E2_BackupSiteContent", body, JSON
    )
    final = backup_host.wait_for_status(started(answer)[1], timeout=60)
    assert final["runtimeStatus"] == "Failed", final
    assert "outside the allowed roots" in json.dumps(final["output"]), final["output"]
    # A partition, handed file entries that climb out of a good root or go through a link.
    job = {"root": str(site), "container": unique_name, "prefix": "site", "compare": "checksum"}
    files = [
        {"path": "../../outside/secret.txt", "size": 13, "mtimeNs": 0},
        {"path": "escape/secret.txt", "size": 13, "mtimeNs": 0},
        {"path": str(outside / "secret.txt"), "size": 13, "mtimeNs": 0},
    ]
    body = json.dumps({"job": job, "files": files})
    answer = backup_host.request("POST", f"{WEBHOOKS}/orchestrators/E2_BackupPartition", body, JSON)
    final = backup_host.wait_for_status(started(answer)[1], timeout=60)
    assert final["runtimeStatus"] == "Completed", final
    assert final["output"]["filesFailed"] == len(files), final["output"]
    for name in _blob_names(storage_connection_string, unique_name):
        content = _download(storage_connection_string, unique_name, name)
        assert content != b"never copy me", f"{name} holds a file from outside the root"


def _blob_names(connection_string: str, container: str) -> list[str]:
    client = BlobServiceClient.from_connection_string(connection_string)
    container_client = client.get_container_client(container)
    if not container_client.exists():
        return []
    return [blob.name for blob in container_client.list_blobs()]


def _download(connection_string: str, container: str, name: str) -> bytes:
    client = BlobServiceClient.from_connection_string(connection_string)
    return client.get_container_client(container).download_blob(name).readall()


def _secrets() -> list[str]:
    # The key itself, a piece of it (a truncated dump still leaks), and its URL-encoded form.
    found = []
    for key in (ACCOUNT_KEY, FAKE_KEY):
        found += [key, key[:24], key[-24:], key.replace("/", "%2F").replace("+", "%2B")[:40]]
    return found + ["AccountKey="]


def _leaks(text: str) -> list[str]:
    return [secret for secret in _secrets() if secret in text]


def _storage_env(host_env: dict[str, str], connection: str) -> dict[str, str]:
    """Backups go to ``connection``; few, quick retries so that failing takes seconds."""
    return {
        **host_env,
        "BACKUP_STORAGE_CONNECTION": connection,
        "BACKUP_RETRY_FIRST_INTERVAL_MS": "100",
        "BACKUP_RETRY_MAX_ATTEMPTS": "2",
    }


def _look(host: HostProcess, url: str, seen: list[tuple[str, str]]) -> dict:
    """The final status, plus everything the status API shows about the instance."""
    final = host.wait_for_status(url, timeout=90)
    seen.append((f"status {final['runtimeStatus']}", json.dumps(final)))
    full = host.request("GET", f"{url}&showHistory=true&showHistoryOutput=true&showInput=true")
    seen.append(("status with history", full.body.decode("utf-8", "replace")))
    return final


def _assert_no_leaks(seen: list[tuple[str, str]]) -> None:
    assert seen
    leaks = [f"{where}: {_leaks(text)}" for where, text in seen if _leaks(text)]
    assert not leaks, "secrets found in:\n" + "\n".join(leaks)


def test_no_secret_in_a_backup_or_in_error_bodies(
    tmp_path: Path, allowed_root: Path, host_env: dict, unique_name: str
) -> None:
    site = allowed_root / "site"
    build_tree(site, 20)
    seen: list[tuple[str, str]] = []  # (where, text)
    with running_host(PROJECT_DIR, tmp_path / "state", env=host_env) as host:
        final = _look(host, started(start_backup(host, site, unique_name))[1], seen)
        assert final["runtimeStatus"] == "Completed", final
        for body in (b"{", b'"relative"', json.dumps({"path": str(site), "container": "X"})):
            answer = host.request("POST", "/orchestrators/E2_BackupSiteContent", body, JSON)
            seen.append(("error body", answer.body.decode("utf-8", "replace")))
        seen.append(("instance list", host.request("GET", f"{WEBHOOKS}/instances").body.decode()))
        seen.append(("host log", host.log_path.read_text(errors="replace")))
    _assert_no_leaks(seen)


@pytest.mark.parametrize(
    ("case", "expected"),
    [("wrong key", "refused access"), ("malformed", "BACKUP_STORAGE_CONNECTION")],
)
def test_no_secret_when_the_storage_setting_is_wrong(
    tmp_path: Path,
    allowed_root: Path,
    host_env: dict,
    azurite,
    unique_name: str,
    case: str,
    expected: str,
) -> None:
    connection = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={FAKE_KEY};BlobEndpoint=http://127.0.0.1:{azurite.ports['blob']}"
        "/devstoreaccount1;"
    )
    if case == "malformed":
        connection = f"AccountKey={FAKE_KEY};this is no connection string"
    site = allowed_root / "site"
    build_tree(site, 5)
    seen: list[tuple[str, str]] = []
    env = _storage_env(host_env, connection)
    with running_host(PROJECT_DIR, tmp_path / "state", env=env) as host:
        # The starter records the destination's owner first, so it refuses at once...
        refused = start_backup(host, site, unique_name)
        seen.append(("start answer", refused.body.decode("utf-8", "replace")))
        # ...and a backup started around it fails in its listing.
        body = json.dumps({"path": str(site), "container": unique_name})
        answer = host.request("POST", f"{WEBHOOKS}/orchestrators/E2_BackupSiteContent", body, JSON)
        final = _look(host, started(answer)[1], seen)
        seen.append(("host log", host.log_path.read_text(errors="replace")))
    assert refused.status in (500, 503), (refused.status, refused.body[:500])
    assert expected in refused.body.decode(), refused.body[:500]
    assert final["runtimeStatus"] == "Failed", final
    assert expected in json.dumps(final["output"]), final["output"]
    _assert_no_leaks(seen)
