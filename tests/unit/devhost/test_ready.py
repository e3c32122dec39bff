"""Waiting on a child host's ready file: stale files are ignored, a dead child is reported."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devhost.ready import HostNotReady, read_ready_file, terminate, wait_ready


def test_a_ready_file_counts_only_for_the_pid_that_wrote_it(tmp_path: Path) -> None:
    path = tmp_path / "ready.json"
    assert read_ready_file(path, 42) is None
    path.write_text(json.dumps({"url": "http://127.0.0.1:1", "pid": 41}))
    assert read_ready_file(path, 42) is None
    path.write_text('{"url": "http://127.0.0.1:1", "pi')  # half written
    assert read_ready_file(path, 42) is None
    path.write_text(json.dumps({"url": "http://127.0.0.1:1", "pid": 42}))
    assert read_ready_file(path, 42) == {"url": "http://127.0.0.1:1", "pid": 42}


def test_a_child_that_writes_its_ready_file_is_ready(tmp_path: Path) -> None:
    path = tmp_path / "ready.json"
    code = (
        "import json, os, sys, time; "
        "open(sys.argv[1], 'w').write(json.dumps({'url': 'http://x', 'pid': os.getpid()})); "
        "time.sleep(30)"
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(path)])
    try:
        assert wait_ready(child, path, timeout=30, log_tail=lambda: "")["url"] == "http://x"
    finally:
        child.kill()
        child.wait()


def test_a_child_that_dies_first_is_reported_with_its_exit_code_and_log(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(HostNotReady, match=r"exited with code 3(.|\n)*the log says"):
        wait_ready(child, tmp_path / "ready.json", timeout=30, log_tail=lambda: "the log says")


def test_terminate_stops_on_sigterm_and_kills_a_child_that_ignores_it(tmp_path: Path) -> None:
    polite = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    assert terminate(polite, timeout=30) is True
    assert polite.returncode == -signal.SIGTERM

    marker = tmp_path / "ignoring"
    code = (
        "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "open(sys.argv[1], 'w').close(); time.sleep(60)"
    )
    stubborn = subprocess.Popen([sys.executable, "-c", code, str(marker)])
    deadline = time.monotonic() + 30
    while not marker.exists():  # SIGTERM must arrive after the handler is set
        assert time.monotonic() < deadline, "the child never set its SIGTERM handler"
        time.sleep(0.02)
    assert terminate(stubborn, timeout=0.5) is False
    assert stubborn.returncode == -signal.SIGKILL
