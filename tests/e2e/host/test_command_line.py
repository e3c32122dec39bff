"""The ``devhost`` command: ready file, flags from the environment, clean stops, restarts."""

import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from devhost.azurite import DEFAULT_PORTS, is_listening
from tests.support.host_process import PROJECT_DIR, HostProcess, running_host

APPS = Path(__file__).resolve().parents[2] / "apps"
WEBHOOK = "/runtime/webhooks/durabletask"


def run_devhost(
    *args: str, env: dict | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "devhost", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=PROJECT_DIR,
        env=env,
    )


def test_sigterm_stops_cleanly_and_state_survives_a_restart(tmp_path: Path) -> None:
    with running_host(APPS / "features", tmp_path / "state") as host:
        ready = json.loads(host.ready_file.read_text())
        assert ready == {"url": host.url, "rpcUrl": host.rpc_url, "pid": host.pid}
        assert (tmp_path / "state" / "FeaturesHub.sqlite").exists()
        done = host.request("POST", f"{WEBHOOK}/orchestrators/Progress/finished")
        assert done.status == 202
        host.wait_for_status("finished", {"Completed"})
        waiting = host.request("POST", f"{WEBHOOK}/orchestrators/WaitForever/waiting")
        assert waiting.status == 202
        host.wait_for_status("waiting", {"Running"})

        assert host.stop() == 0
        log = host.log_tail(50000)
        assert "Stopping host" in log and "Host stopped" in log
        assert "Unclosed" not in log and "Traceback" not in log
        assert not host.ready_file.exists()

        host.start()
        assert host.request("GET", host.status_url("finished")).status == 200
        raised = host.request(
            "POST",
            f"{WEBHOOK}/instances/waiting/raiseEvent/Go",
            '"after restart"',
            {"Content-Type": "application/json"},
        )
        assert raised.status == 202
        assert host.wait_for_status("waiting", {"Completed"})["output"] == "after restart"


def test_flags_from_environment_variables_and_debug_invocation_logs(tmp_path: Path) -> None:
    env = {"DEVHOST_LOG_LEVEL": "debug", "GREETING": "Hi"}
    with running_host(APPS / "hello_sequence", tmp_path / "state", env=env) as host:
        answer = host.request("POST", "/api/orchestrators/E1_HelloSequence")
        status = host.wait_for_status(answer.json()["id"], {"Completed"})
        # A variable already set in the environment wins over local.settings.json.
        assert status["output"] == ["Hi Tokyo!", "Hi Seattle!", "Hi London!"]
        log = host.log_tail(100000)
        assert "Skipping 'GREETING' from local settings as it's already defined" in log
        assert "Executing 'Functions.E1_SayHello' (Reason='(null)', Id=" in log
        assert "Executed 'Functions.E1_SayHello' (Succeeded, Id=" in log


def test_activity_invocations_are_not_logged_at_info(hello_host: HostProcess) -> None:
    answer = hello_host.request("POST", "/api/orchestrators/E1_HelloSequence")
    hello_host.wait_for_status(answer.json()["id"], {"Completed"})
    log = hello_host.log_tail(100000)
    assert "Executed 'Functions.HttpStart' (Succeeded, Id=" in log
    assert "Functions.E1_SayHello" not in log


def test_a_busy_rpc_port_falls_back_to_a_free_one(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ("--rpc-port", str(port))
        with running_host(APPS / "hello_sequence", tmp_path / "s", extra_args=args) as host:
            assert f"Local RPC port {port} is in use; using port" in host.log_tail()
            assert host.rpc_url and f":{port}/" not in host.rpc_url
            answer = host.request("POST", "/api/orchestrators/E1_HelloSequence")
            assert answer.status == 202


def test_a_busy_http_port_is_an_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_devhost(
            str(APPS / "hello_sequence"),
            "--port",
            str(port),
            "--rpc-port",
            "0",
            "--state-dir",
            str(tmp_path),
            "--no-azurite",
        )
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr


@pytest.mark.parametrize(
    ("host_json", "message"),
    [
        ("{broken", "host.json is not valid JSON"),
        ('{"version": "2.0", "extensions": {"durableTask": {"hubName": "a-b"}}}', "task hub name"),
    ],
)
def test_configuration_errors_stop_the_host_with_a_message(
    tmp_path: Path, host_json: str, message: str
) -> None:
    app = tmp_path / "app"
    shutil.copytree(APPS / "hello_sequence", app)
    (app / "host.json").write_text(host_json)
    result = run_devhost(str(app), "--port", "0", "--rpc-port", "0", "--no-azurite")
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_second_host_on_the_same_state_is_refused(tmp_path: Path) -> None:
    with running_host(APPS / "hello_sequence", tmp_path / "state"):
        result = run_devhost(
            str(APPS / "hello_sequence"),
            "--port",
            "0",
            "--rpc-port",
            "0",
            "--state-dir",
            str(tmp_path / "state"),
            "--no-azurite",
        )
    assert result.returncode == 1
    assert "is in use by another host process" in result.stderr


def test_help_lists_the_options() -> None:
    result = run_devhost("--help")
    assert result.returncode == 0
    for option in ("--port", "--rpc-port", "--state-dir", "--ready-file", "--no-azurite"):
        assert option in result.stdout


def test_development_storage_starts_azurite_unless_one_answers(tmp_path: Path) -> None:
    """With UseDevelopmentStorage=true the host starts Azurite on the well-known ports and
    stops it again; if something already answers there, it leaves it alone. (Other test runs
    on the machine may use those ports too: the test follows what the host says it did.)"""
    with running_host(
        APPS / "hello_sequence", tmp_path / "state", no_azurite=False, start_timeout=90
    ) as host:
        log = host.log_tail()
        if "Could not start Azurite" in log:
            pytest.skip("another process took port 10000 while the host started")
        started = re.search(
            r"Started Azurite \(pid (\d+); blob 10000, queue 10001, table 10002\)", log
        )
        reused = "Storage emulator already answers on port 10000" in log
        assert bool(started) != reused, log
        if started:
            azurite_process = psutil.Process(int(started.group(1)))
            assert "azurite" in " ".join(azurite_process.cmdline())
            assert all(is_listening(port) for port in DEFAULT_PORTS.values())
            assert (tmp_path / "state" / "azurite").is_dir()
        assert host.stop() == 0
    if started:
        assert not azurite_process.is_running()
