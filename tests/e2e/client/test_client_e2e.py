"""The client against the local host (a subprocess) serving the real app, with a real Azurite.

Every ``site-backup`` call is a subprocess too, the way a user runs it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from azure.storage.blob import ContainerClient

from devhost.azurite import is_listening
from sitebackup.naming import blob_name
from tests.e2e.client.trees import build_site, change_same_size
from tests.support.host_process import HostProcess, http_request, running_host, wait_for_status

PROJECT_DIR = Path(__file__).resolve().parents[3]
CLIENT = [sys.executable, "-m", "backup_client"]


def client_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SITE_BACKUP_", "DEVHOST_", "BACKUP_"))
    }
    env.pop("AzureWebJobsStorage", None)
    env.update(extra)
    return env


def site_backup(*args: str, env: dict[str, str] | None = None, timeout: float = 180):
    return subprocess.run(
        [*CLIENT, *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env=env or client_env(),
        timeout=timeout,
    )


def show(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one folder the host may back up from (BACKUP_ALLOWED_ROOTS)."""
    return tmp_path_factory.mktemp("roots")


@pytest.fixture(scope="module")
def host(azurite, roots, tmp_path_factory) -> Iterator[HostProcess]:
    env = {
        "AzureWebJobsStorage": azurite.connection_string,
        "BACKUP_STORAGE_CONNECTION": azurite.connection_string,
        "BACKUP_ALLOWED_ROOTS": str(roots),
    }
    with running_host(PROJECT_DIR, tmp_path_factory.mktemp("host-state"), env=env) as running:
        yield running


def blob_names(connection_string: str, container: str) -> set[str]:
    with ContainerClient.from_connection_string(connection_string, container) as client:
        return {blob.name for blob in client.list_blobs()}


def test_backup_verify_change_and_back_up_again(host, azurite, roots, unique_name):
    site = roots / f"site {unique_name}"
    sizes = build_site(site)
    cs = azurite.connection_string
    container = unique_name
    backup_args = ("backup", str(site), "--url", host.url, "--container", container)

    first = site_backup(*backup_args, "--no-progress")
    assert first.returncode == 0, show(first)
    assert f"{len(sizes)} total: {len(sizes)} copied, 0 skipped (unchanged), 0 failed" in (
        first.stdout
    ), show(first)
    assert f"({sum(sizes.values()):,} bytes)" in first.stdout
    assert f"blobs  {container}/{site.name}" in first.stdout
    assert "Traceback" not in first.stdout + first.stderr
    expected = {blob_name(site.name, rel) for rel in sizes}
    assert blob_names(cs, container) == expected

    verify_args = ("verify", str(site), "--container", container, "--connection-string", cs)
    verified = site_backup(*verify_args)
    assert verified.returncode == 0, show(verified)
    assert f"OK: all {len(sizes)} files" in verified.stdout

    changed = "blog/2026/premi\u00e8re note.md"
    change_same_size(site / "blog" / "2026" / "premi\u00e8re note.md")
    mismatch = site_backup(*verify_args)
    assert mismatch.returncode == 1, show(mismatch)
    assert f"different  {changed}: same size, different content" in mismatch.stdout

    second = site_backup(*backup_args, "--json")
    assert second.returncode == 0, show(second)
    result = json.loads(second.stdout)
    assert (result["filesCopied"], result["filesSkipped"], result["filesFailed"]) == (
        1,
        len(sizes) - 1,
        0,
    )
    assert result["bytes"] == sum(sizes.values())
    again = site_backup(*verify_args)
    assert again.returncode == 0, show(again)

    # A file removed locally leaves its blob behind: verify names it as extra.
    (site / "about" / "index.html").unlink()
    extra = site_backup(*verify_args, "--json")
    assert extra.returncode == 1, show(extra)
    assert json.loads(extra.stdout)["extra"] == [blob_name(site.name, "about/index.html")]

    status = site_backup("status", result["instanceId"], "--url", host.url)
    assert status.returncode == 0, show(status)
    assert f"{result['instanceId']}  Completed" in status.stdout


def test_raw_http_start_poll_and_output(host, roots, unique_name):
    site = roots / unique_name
    sizes = build_site(site, seed=11)
    started = http_request(
        "POST",
        f"{host.url}/orchestrators/E2_BackupSiteContent",
        json.dumps(str(site)),  # the documented form: the directory as a JSON string
        {"Content-Type": "application/json"},
    )
    assert started.status == 202, started.body
    location = started.headers["Location"]
    body = started.json()
    assert location == body["statusQueryGetUri"]
    deadline = time.monotonic() + 120
    codes = []
    while True:
        answer = http_request("GET", location)
        codes.append(answer.status)
        if answer.status == 200:
            break
        assert answer.status == 202, answer.body
        assert "Retry-After" in answer.headers
        assert time.monotonic() < deadline, f"still {answer.json()} after 120 s"
        time.sleep(0.1)
    final = answer.json()
    assert final["runtimeStatus"] == "Completed", final
    assert final["output"] == sum(sizes.values())
    assert final["customStatus"]["filesCopied"] == len(sizes)


def test_local_reuses_a_running_host_and_leaves_it_running(host, azurite, roots, unique_name):
    site = roots / unique_name
    sizes = build_site(site, seed=3)
    result = site_backup(
        "backup",
        str(site),
        "--local",
        "--url",
        host.url,
        "--container",
        unique_name,
        "--no-progress",
    )
    assert result.returncode == 0, show(result)
    assert "starting the local host" not in result.stderr
    assert f"{len(sizes)} total" in result.stdout
    assert host.running
    assert http_request("GET", host.status_url("no-such-instance")).status == 404


def devhost_processes(port: int) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if (
            "devhost" in cmdline
            and "--port" in cmdline
            and cmdline[cmdline.index("--port") + 1] == str(port)
        ):
            found.append(process)
    return found


@pytest.mark.slow
def test_local_starts_the_host_and_stops_it(azurite, tmp_path, unique_name):
    site = tmp_path / "my site"
    sizes = build_site(site, seed=5)
    port = free_port()
    env = client_env(
        AzureWebJobsStorage=azurite.connection_string,
        BACKUP_STORAGE_CONNECTION=azurite.connection_string,
        DEVHOST_STATE_DIR=str(tmp_path / "state"),
    )
    result = site_backup(
        "backup",
        str(site),
        "--local",
        "--url",
        f"http://127.0.0.1:{port}",
        "--container",
        unique_name,
        "--no-progress",
        env=env,
    )
    assert result.returncode == 0, show(result)
    assert f"starting the local host for {PROJECT_DIR} on port {port}" in result.stderr
    assert "stopping the local host" in result.stderr
    assert f"{len(sizes)} total: {len(sizes)} copied" in result.stdout
    assert not is_listening(port), "the host the client started still listens"
    assert devhost_processes(port) == []


@pytest.mark.slow
def test_ctrl_c_with_local_stops_the_host_and_the_backup_resumes(azurite, tmp_path, unique_name):
    site = tmp_path / "big site"
    for index in range(60):
        path = site / f"d{index % 6}" / f"f{index:02d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(512))
    port = free_port()
    state = tmp_path / "state"
    env = client_env(
        AzureWebJobsStorage=azurite.connection_string,
        BACKUP_STORAGE_CONNECTION=azurite.connection_string,
        DEVHOST_STATE_DIR=str(state),
        # One file per partition, one partition at a time: slow enough to interrupt.
        BACKUP_PARTITION_SIZE="1",
        BACKUP_PARTITION_CONCURRENCY="1",
    )
    process = subprocess.Popen(
        [
            *CLIENT,
            "backup",
            str(site),
            "--local",
            "--url",
            f"http://127.0.0.1:{port}",
            "--container",
            unique_name,
            "--no-progress",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_DIR,
        env=env,
    )
    try:
        # Interrupt once the backup is copying (the phase line), not before it started.
        lines = []
        deadline = time.monotonic() + 120
        while not any(line.startswith("copying") for line in lines):
            assert time.monotonic() < deadline, f"no copying phase; stderr so far: {lines}"
            line = process.stderr.readline()
            assert line, f"client ended early: {lines} {process.communicate()}"
            lines.append(line.strip())
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    err = "\n".join(lines) + err
    assert process.returncode == 130, f"{out}\n{err}"
    instance_id = re.search(r"backup (\S+) started", err).group(1)
    assert "paused, not lost" in err
    assert f"site-backup status {instance_id} --follow --url http://127.0.0.1:{port}" in err
    assert not is_listening(port)
    assert devhost_processes(port) == []

    # What the message promises: a host on the same state finishes the backup.
    host_env = {key: env[key] for key in env if key.startswith(("Azure", "BACKUP_"))}
    host_env["BACKUP_ALLOWED_ROOTS"] = str(site.resolve())
    with running_host(PROJECT_DIR, state, env=host_env) as resumed:
        final = wait_for_status(resumed.status_url(instance_id), {"Completed"}, timeout=180)
    assert final["customStatus"]["filesDone"] == 60
    assert final["customStatus"]["filesFailed"] == 0


def test_verify_walks_and_names_on_its_own(host, azurite, roots, unique_name):
    """verify's expectations come from its own walk and naming: a file the backup leaves out
    on purpose is listed as excluded, and a blob stored under another name is caught."""
    site = roots / f"own {unique_name}"
    sizes = build_site(site, seed=5)
    (site / "odd\\name.txt").write_text("a backslash cannot be in a blob name")
    cs = azurite.connection_string
    container = unique_name
    backup = site_backup("backup", str(site), "--url", host.url, "--container", container)
    assert backup.returncode == 0, show(backup)
    verify_args = ("verify", str(site), "--container", container, "--connection-string", cs)

    verified = site_backup(*verify_args, "--json")
    assert verified.returncode == 0, show(verified)
    report = json.loads(verified.stdout)
    assert report["matched"] == len(sizes)
    assert [item["path"] for item in report["excluded"]] == ["odd\\name.txt"]
    assert "backslash" in report["excluded"][0]["reason"]

    # Store one file under another name, as a naming bug would.
    rel = sorted(sizes)[0]
    right = f"{site.name}/{rel}"
    wrong = f"{site.name}/{rel.upper()}"
    with ContainerClient.from_connection_string(cs, container) as client:
        data = client.download_blob(right).readall()
        client.upload_blob(wrong, data)
        client.delete_blob(right)
    misnamed = site_backup(*verify_args, "--json")
    assert misnamed.returncode == 1, show(misnamed)
    report = json.loads(misnamed.stdout)
    assert report["missing"] == [{"path": rel, "blob": right}]
    assert report["extra"] == [wrong]
