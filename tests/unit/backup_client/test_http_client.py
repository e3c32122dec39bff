"""The client over real HTTP against a scripted server: requests sent, answers understood,
exit codes, and Ctrl-C. The backup app itself is exercised in tests/e2e/client."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from backup_client.api import BackupApi
from backup_client.cli import main
from backup_client.errors import AlreadyRunning, ApiError, HostUnreachable, InstanceNotFound
from backup_client.follow import follow
from tests.unit.backup_client.scripted_server import (
    Answer,
    ScriptedServer,
    scripted_server,
    start_body,
    status_body,
)

START = "/orchestrators/E2_BackupSiteContent"
ID = "backup-123"
STATUS = f"/runtime/webhooks/durabletask/instances/{ID}"


def custom(phase: str, done: int, total: int = 3, failed: tuple = ()) -> dict:
    return {
        "phase": phase,
        "filesTotal": total,
        "filesDone": done,
        "filesCopied": done - len(failed),
        "filesSkipped": 0,
        "filesFailed": len(failed),
        "bytesTotal": 300,
        "bytesDone": done * 100,
        "failed": [{"path": p, "error": e} for p, e in failed],
        "skippedEntries": 0,
        "container": "backups",
        "prefix": "site",
    }


def script_backup(server: ScriptedServer, final: dict) -> None:
    server.script("POST", START, Answer(202, start_body(server.url, ID), {"Retry-After": "10"}))
    server.script(
        "GET",
        STATUS,
        Answer(202, status_body(ID, "Pending"), {"Retry-After": "10"}),
        Answer(202, status_body(ID, "Running", custom("listing", 0)), {"Retry-After": "10"}),
        Answer(202, status_body(ID, "Running", custom("copying", 2)), {"Retry-After": "10"}),
        Answer(200, final),
    )


@pytest.fixture
def server():
    with scripted_server() as running:
        yield running


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(*args: str) -> tuple[int, str, str]:
    if args[0] in ("backup", "status"):
        args = (*args, "--poll-interval", "0.05")
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# ---- the API layer --------------------------------------------------------------------


def test_start_sends_the_documented_body_and_key(server, tmp_path):
    script_backup(server, status_body(ID, "Completed", custom("done", 3), 300))
    with BackupApi(server.url, code="fkey") as api:
        started = api.start_backup(str(tmp_path), container="c1", prefix="p/q")
    assert started.instance_id == ID
    assert started.status_url.startswith(f"{server.url}{STATUS}?")
    assert "{text}" in (started.terminate_template or "")
    (request,) = server.requests_to("POST", START)
    assert json.loads(request.body) == {"path": str(tmp_path), "container": "c1", "prefix": "p/q"}
    assert request.query == "code=fkey"


def test_follow_polls_faster_than_retry_after_until_terminal(server):
    script_backup(server, status_body(ID, "Completed", custom("done", 3), 300))
    seen = []
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    with BackupApi(server.url) as api:
        final = follow(api, f"{server.url}{STATUS}", seen.append, poll_ceiling=0.1, sleep=sleep)
    # Every answer but the last said Retry-After: 10; each wait was capped at the ceiling.
    assert len(waits) == 3 and all(0 < wait <= 0.1 for wait in waits), waits
    assert [s.runtime_status for s in seen] == ["Pending", "Running", "Running", "Completed"]
    assert [s.progress.files_done for s in seen] == [0, 0, 2, 3]
    assert final.output == 300


def test_follow_rides_out_a_server_error_but_not_a_404(server):
    server.script(
        "GET",
        STATUS,
        Answer(503, b""),
        Answer(200, status_body(ID, "Completed", custom("done", 3), 300)),
    )
    with BackupApi(server.url) as api:
        final = follow(api, f"{server.url}{STATUS}", lambda s: None, poll_ceiling=0.05)
        assert final.runtime_status == "Completed"
        with pytest.raises(InstanceNotFound, match="no backup with id 'nope'"):
            follow(api, "nope", lambda s: None, poll_ceiling=0.05)


def test_follow_gives_up_when_the_host_stays_away():
    api = BackupApi(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(HostUnreachable, match="no host answers"):
        follow(api, ID, lambda s: None, poll_ceiling=0.05, lost_host_grace=0.3)


def test_api_errors_carry_the_servers_message(server, tmp_path):
    server.script("POST", START, Answer(400, {"error": "'/nope' does not exist; pass a folder"}))
    with BackupApi(server.url) as api, pytest.raises(ApiError) as caught:
        api.start_backup("/nope")
    assert str(caught.value) == "'/nope' does not exist; pass a folder"
    assert caught.value.status == 400

    running_url = f"{server.url}{STATUS}?taskHub=H"
    server.script(
        "POST",
        START,
        Answer(409, {"error": "a backup is running", "statusQueryGetUri": running_url}),
    )
    with BackupApi(server.url) as api, pytest.raises(AlreadyRunning) as conflict:
        api.start_backup(str(tmp_path))
    assert conflict.value.status_url == running_url


# ---- the command line -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("final", "code", "expected"),
    [
        (status_body(ID, "Completed", custom("done", 3), 300), 0, "3 total: 3 copied"),
        (
            status_body(ID, "Completed", custom("done", 3, failed=(("x", "gone"),)), 200),
            3,
            "x: gone",
        ),
        (status_body(ID, "Failed", custom("copying", 1), "Orchestrator failed: boom"), 4, "boom"),
        (status_body(ID, "Terminated", custom("copying", 1), "stop"), 5, "Terminated"),
    ],
)
def test_backup_command_summary_and_exit_code(server, tmp_path, final, code, expected):
    script_backup(server, final)
    exit_code, out, err = run_cli("backup", str(tmp_path), "--url", server.url, "--no-progress")
    assert exit_code == code, err
    assert f"{ID}  {final['runtimeStatus']}" in out
    assert expected in out
    assert "backups/site" in out
    assert "Traceback" not in out + err


def test_backup_command_json_output(server, tmp_path):
    script_backup(server, status_body(ID, "Completed", custom("done", 3), 300))
    exit_code, out, _ = run_cli("backup", str(tmp_path), "--url", server.url, "--json")
    assert exit_code == 0
    result = json.loads(out)
    assert result["instanceId"] == ID and result["bytes"] == 300 and result["exitCode"] == 0
    assert (result["filesTotal"], result["filesCopied"]) == (3, 3)


def test_backup_command_shows_api_errors_without_traceback(server, tmp_path):
    server.script("POST", START, Answer(400, {"error": "path is outside the allowed roots"}))
    exit_code, out, err = run_cli("backup", str(tmp_path), "--url", server.url)
    assert exit_code == 6
    assert "error: path is outside the allowed roots" in err
    assert "Traceback" not in out + err


def test_backup_command_on_conflict_says_how_to_follow(server, tmp_path):
    url = f"{server.url}{STATUS}?taskHub=H"
    server.script(
        "POST", START, Answer(409, {"error": "already running", "statusQueryGetUri": url})
    )
    exit_code, _, err = run_cli("backup", str(tmp_path), "--url", server.url)
    assert exit_code == 6
    assert f"site-backup status {ID} --follow --url {server.url}" in err


def test_backup_command_when_nothing_answers(tmp_path):
    port = free_port()
    exit_code, _, err = run_cli("backup", str(tmp_path), "--url", f"http://127.0.0.1:{port}")
    assert exit_code == 7
    assert f"no host answers at http://127.0.0.1:{port}" in err
    assert f"python -m devhost --port {port}" in err


def test_status_command(server):
    server.script(
        "GET", STATUS, Answer(200, status_body(ID, "Failed", custom("copying", 1), "boom"))
    )
    exit_code, out, _ = run_cli("status", ID, "--url", server.url, "--code", "k")
    assert exit_code == 4
    assert f"{ID}  Failed in 2.0 s" in out and "boom" in out
    assert server.requests_to("GET", STATUS)[0].query == "code=k"

    exit_code, _, err = run_cli("status", "unknown-id", "--url", server.url)
    assert exit_code == 6
    assert "knows no backup with id 'unknown-id'" in err


def test_status_command_follows(server):
    script_backup(server, status_body(ID, "Completed", custom("done", 3), 300))
    exit_code, out, _ = run_cli("status", ID, "--url", server.url, "--follow", "--no-progress")
    assert exit_code == 0
    assert len(server.requests_to("GET", STATUS)) == 4
    assert f"{ID}  Completed" in out


def test_terminate_command(server):
    instances = "/runtime/webhooks/durabletask/instances"
    partition = f"{instances}/{ID}%3Ap00001"
    running = [{"instanceId": f"{ID}:p00001", "runtimeStatus": "Running"}]
    server.script("POST", f"{STATUS}/terminate", Answer(202, b""))
    server.script("POST", f"{partition}/terminate", Answer(202, b""))
    server.script("GET", STATUS, Answer(200, status_body(ID, "Terminated", None, "why")))
    # The first query finds a running partition, the next ones none.
    server.script("GET", instances, Answer(200, json.dumps(running).encode()), Answer(200, b"[]"))
    exit_code, out, err = run_cli("terminate", ID, "--url", server.url, "--reason", "why not")
    assert exit_code == 0
    assert f"{ID}  Terminated" in out
    assert "copying has stopped" in err and "1 running partition" in err
    (request,) = server.requests_to("POST", f"{STATUS}/terminate")
    assert request.query == "reason=why%20not"
    (request,) = server.requests_to("POST", f"{partition}/terminate")
    assert request.query == "reason=why%20not"
    (query, *_) = server.requests_to("GET", instances)
    assert f"instanceIdPrefix={ID}%3A&" in query.query

    server.script("POST", f"{STATUS}/terminate", Answer(410, b""))
    exit_code, _, err = run_cli("terminate", ID, "--url", server.url)
    assert exit_code == 0 and "already ended: Terminated" in err

    server.script("POST", f"{STATUS}/terminate", Answer(404, b""))
    exit_code, _, err = run_cli("terminate", ID, "--url", server.url)
    assert exit_code == 6 and "knows no backup" in err


def test_ctrl_c_stops_following_and_says_how_to_go_on(server, tmp_path):
    server.script("POST", START, Answer(202, start_body(server.url, ID)))
    server.script("GET", STATUS, Answer(202, status_body(ID, "Running", custom("copying", 1))))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SITE_BACKUP_CODE", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "backup_client", "backup", str(tmp_path), "--url", server.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=Path(__file__).resolve().parents[3],
    )
    try:
        deadline = time.monotonic() + 30
        while len(server.requests_to("GET", STATUS)) < 2:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the client never polled the status URL"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = out.decode() + err.decode()
    assert process.returncode == 130, text
    assert f"Backup {ID} goes on" in text
    assert f"site-backup status {ID} --follow --url {server.url}" in text
    assert f"site-backup terminate {ID} --url {server.url}" in text
    assert "Traceback" not in text
    assert not server.requests_to("POST", f"{STATUS}/terminate")


def test_verbose_logs_never_show_the_key(server):
    server.script("GET", STATUS, Answer(200, status_body(ID, "Completed", custom("done", 3), 300)))
    result = subprocess.run(
        [sys.executable, "-m", "backup_client", "-vv", "status", ID, "--url", server.url],
        capture_output=True,
        text=True,
        env={**os.environ, "SITE_BACKUP_CODE": "s3cr3t-key"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "code=***" in result.stderr  # the request was logged...
    assert "s3cr3t-key" not in result.stdout + result.stderr  # ...without the key
    assert server.requests_to("GET", STATUS)[0].query == "code=s3cr3t-key"
