"""Restore through the real path: the local host (a subprocess) serving the app over HTTP,
the real durable SDK, real Azurite, real folders.

Expected trees come from copies made with shutil before anything changed, or from the bytes
the test itself put into storage, never from the restore's own bookkeeping.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sitebackup.restore.request import instance_id
from tests.e2e.restore.support import (
    BACKUP,
    RESTORE,
    build_tree,
    contents,
    copy_aside,
    make_places,
    post,
    restore_host,
    run,
    snapshot_of,
    start,
    temp_files,
    write_snapshot,
)
from tests.support.host_process import HostProcess, http_request

PROJECT_DIR = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("places")
    return make_places(base, ("sites", "restores", "outside", "oracles"))


@pytest.fixture(scope="module")
def host(azurite, places, tmp_path_factory) -> Iterator[HostProcess]:
    with restore_host(azurite, places, tmp_path_factory.mktemp("host-state")) as running:
        yield running


def test_hostile_names_in_a_manifest_cannot_write_outside_the_target(
    host, azurite, places, unique_name
):
    target = places["restores"] / unique_name
    target.mkdir()
    outside = places["outside"] / unique_name
    outside.mkdir()
    (target / "uploads").symlink_to(outside)
    good = {"index.html": b"<h1>ok</h1>", "css/site.css": b"body{}"}
    hostile = [
        "../../outside/escape.txt",
        "/tmp/absolute.txt",
        "a\\..\\..\\b.txt",
        "uploads/evil.php",
        "x/../../y.txt",
        "css//double.css",
    ]
    write_snapshot(
        azurite.connection_string,
        unique_name,
        "www",
        "run-hostile",
        good,
        extra_lines=[
            {"path": name, "size": 4, "mtimeNs": 0, "md5": "ICEHUKy9mNcKZDGfjUDu7Q=="}
            for name in hostile
        ],
    )

    final = run(
        host,
        RESTORE,
        {"container": unique_name, "prefix": "www", "target": str(target)},
    )

    assert final["runtimeStatus"] == "Completed", final
    status = final["customStatus"]
    assert (status["filesCopied"], status["filesFailed"]) == (len(good), len(hostile))
    assert {item["path"] for item in status["failed"]} == set(hostile)
    assert all(item["error"].startswith("refused") for item in status["failed"])
    assert list(outside.iterdir()) == []
    assert not (places["outside"] / "escape.txt").exists()
    assert contents(snapshot_of(target)) == good


def test_bad_requests_get_a_400_and_start_nothing(host, azurite, places, unique_name):
    write_snapshot(azurite.connection_string, unique_name, "www", "run-1", {"a.txt": b"a"})
    inside = str(places["restores"] / unique_name)
    base = {"container": unique_name, "prefix": "www", "target": inside}
    cases = [
        ({k: v for k, v in base.items() if k != "target"}, "'target' is missing"),
        ({**base, "target": str(places["outside"])}, "outside the restore roots"),
        ({**base, "snapshot": "no-such-run"}, "no snapshot 'no-such-run'"),
        ({**base, "include": ["[z-a]"]}, "not valid"),
        ({**base, "include": "*.txt"}, "must be a list"),
        ({**base, "target": 42}, "must be a string"),
        ({**base, "existing": True}, "must be a string"),
        ({**base, "asOf": "not a time"}, "not a time"),
    ]
    for body, message in cases:
        answer = post(host, RESTORE, body)
        assert answer.status == 400, (body, answer.status, answer.body)
        assert message in answer.json()["error"], (body, answer.json())
    broken = http_request("POST", f"{host.url}/{RESTORE}", b"{not json", {})
    assert broken.status == 400 and "not valid JSON" in broken.json()["error"]
    for target in (inside, str(places["outside"])):
        gone = http_request("GET", host.status_url(instance_id(target)))
        assert gone.status == 404, gone.body
    assert not Path(inside).exists()


def test_sigkill_mid_restore_then_restart_finishes_with_no_temporary_files(
    host, azurite, places, unique_name
):
    source = places["oracles"] / unique_name
    build_tree(source, files=240, seed=7, size=48 * 1024)
    files = {path: data for path, (data, _) in snapshot_of(source).items()}
    write_snapshot(azurite.connection_string, unique_name, "site", "run-big", files)
    target = places["restores"] / unique_name

    instance = start(
        host, RESTORE, {"container": unique_name, "prefix": "site", "target": str(target)}
    )
    deadline = time.monotonic() + 120
    while True:
        status = http_request("GET", host.status_url(instance)).json() or {}
        done = (status.get("customStatus") or {}).get("filesDone") or 0
        if 0 < done < len(files) - 20:
            break
        assert status.get("runtimeStatus") not in ("Completed", "Failed"), (
            f"the restore ended before the kill: {status}"
        )
        assert time.monotonic() < deadline, f"no progress to interrupt: {status}"
        time.sleep(0.02)
    host.restart(kill=True)
    final = host.wait_for_status(instance, timeout=300)

    assert final["runtimeStatus"] == "Completed", final
    assert final["customStatus"]["filesFailed"] == 0, final["customStatus"]
    assert final["output"] == sum(len(data) for data in files.values())
    assert contents(snapshot_of(target)) == files
    assert temp_files(target) == []


def site_backup(*args: str, env_extra: dict[str, str] | None = None):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SITE_BACKUP_", "DEVHOST_", "BACKUP_"))
    }
    env.pop("AzureWebJobsStorage", None)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "backup_client", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env=env,
        timeout=180,
    )


def show(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def test_client_lists_restores_and_verifies_a_snapshot(host, azurite, places, unique_name):
    cs = azurite.connection_string
    files = {"index.html": b"<h1>home</h1>", "img/logo.png": bytes(range(256)) * 40}
    write_snapshot(cs, unique_name, "mysite", "run-client", files)
    site = places["sites"] / "mysite"  # the backed-up folder: only its name matters now
    common = ("--container", unique_name)

    listed = site_backup("snapshots", str(site), *common, "--connection-string", cs, "--json")
    assert listed.returncode == 0, show(listed)
    [header] = json.loads(listed.stdout)
    assert (header["runId"], header["files"]) == ("run-client", len(files))
    table = site_backup("snapshots", str(site), *common, "--connection-string", cs)
    assert "run-client" in table.stdout, show(table)

    target = places["restores"] / f"{unique_name}-client"
    restored = site_backup(
        "restore",
        str(site),
        "--to",
        str(target),
        "--snapshot",
        "run-client",
        "--url",
        host.url,
        "--no-progress",
        *common,
    )
    assert restored.returncode == 0, show(restored)
    assert f"{len(files)} total: {len(files)} restored" in restored.stdout, show(restored)
    assert contents(snapshot_of(target)) == files

    verify = ("verify", str(target), *common, "--prefix", "mysite", "--connection-string", cs)
    same = site_backup(*verify, "--snapshot", "run-client")
    assert same.returncode == 0, show(same)
    (target / "index.html").write_bytes(b"<h1>defaced</h1>")
    differs = site_backup(*verify, "--snapshot", "run-client")
    assert differs.returncode == 1, show(differs)
    assert "index.html" in differs.stdout

    # The defaced file differs: refused unless --overwrite, which brings the good one back.
    again = site_backup(
        "restore", str(site), "--to", str(target), "--url", host.url, "--json", *common
    )
    assert again.returncode == 3, show(again)
    assert json.loads(again.stdout)["failed"][0]["path"] == "index.html"
    fixed = site_backup(
        "restore",
        str(site),
        "--to",
        str(target),
        "--url",
        host.url,
        "--json",
        "--overwrite",
        *common,
    )
    assert fixed.returncode == 0, show(fixed)
    assert contents(snapshot_of(target)) == files


def snapshot_ids(azurite, container: str, prefix: str) -> list[str]:
    """The backup's snapshots, newest first, as the client lists them."""
    site = Path("/nonexistent") / prefix
    listed = site_backup(
        "snapshots",
        str(site),
        "--container",
        container,
        "--connection-string",
        azurite.connection_string,
        "--json",
    )
    assert listed.returncode == 0, show(listed)
    return [header["runId"] for header in json.loads(listed.stdout)]


def test_back_up_change_back_up_then_restore_each_snapshot(host, azurite, places, unique_name):
    site = places["sites"] / "site" / unique_name
    build_tree(site, files=60, seed=3)
    (site / "index.html").write_bytes(b"<h1>the good page</h1>")
    backup = {"path": str(site), "container": unique_name, "prefix": "www"}
    first = run(host, BACKUP, backup)
    assert first["runtimeStatus"] == "Completed", first
    oracle_first = copy_aside(site, places["oracles"] / f"{unique_name}-1")

    # Change, delete, add, rename; and a corruption that keeps the size (a defacement).
    (site / "d0" / "s0" / "f0000.bin").write_bytes(b"changed content")
    (site / "d1" / "s1" / "f0001.bin").unlink()
    (site / "new" / "added.txt").parent.mkdir()
    (site / "new" / "added.txt").write_bytes(b"added later")
    (site / "d2" / "s2" / "f0002.bin").rename(site / "d2" / "renamed.bin")
    (site / "index.html").write_bytes(b"<h1>DEFACED!! page</h1>"[: len(b"<h1>the good page</h1>")])
    assert (site / "index.html").stat().st_size == len(b"<h1>the good page</h1>")
    second = run(host, BACKUP, backup)
    assert second["runtimeStatus"] == "Completed", second
    oracle_latest = copy_aside(site, places["oracles"] / f"{unique_name}-2")

    newest, oldest = snapshot_ids(azurite, unique_name, "www")

    # The first snapshot, into an empty folder: the tree as it was, mtimes included.
    target = places["restores"] / f"{unique_name}-first"
    done = run(host, RESTORE, {**backup, "snapshot": oldest, "target": str(target)})
    assert done["runtimeStatus"] == "Completed", done
    assert done["customStatus"]["filesFailed"] == 0, done["customStatus"]
    assert snapshot_of(target) == oracle_first
    assert (target / "index.html").read_bytes() == b"<h1>the good page</h1>"
    assert done["output"] == sum(len(data) for data, _ in oracle_first.values())

    # Latest (the default), likewise.
    target = places["restores"] / f"{unique_name}-latest"
    done = run(host, RESTORE, {**backup, "target": str(target)})
    assert done["runtimeStatus"] == "Completed", done
    assert snapshot_of(target) == oracle_latest

    # "As of" a moment between the two backups: the first snapshot again.
    listed = site_backup(
        "snapshots",
        "/nonexistent/www",
        "--container",
        unique_name,
        "--connection-string",
        azurite.connection_string,
        "--json",
    )
    ended = {header["runId"]: header["endedMs"] for header in json.loads(listed.stdout)}
    between = (ended[oldest] + ended[newest]) // 2
    moment = datetime.fromtimestamp(between / 1000, UTC).isoformat()
    target = places["restores"] / f"{unique_name}-as-of"
    done = run(host, RESTORE, {**backup, "asOf": moment, "target": str(target)})
    assert done["runtimeStatus"] == "Completed", done
    assert contents(snapshot_of(target)) == contents(oracle_first)

    # One file and one folder of the first snapshot.
    target = places["restores"] / f"{unique_name}-subset"
    done = run(
        host,
        RESTORE,
        {**backup, "snapshot": oldest, "target": str(target), "include": ["/index.html", "/d1/"]},
    )
    assert done["runtimeStatus"] == "Completed", done
    wanted = {p: v for p, v in oracle_first.items() if p == "index.html" or p.startswith("d1/")}
    assert snapshot_of(target) == wanted
    assert done["customStatus"]["filesTotal"] == len(wanted)
    assert newest != oldest
