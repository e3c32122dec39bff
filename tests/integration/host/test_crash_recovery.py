"""Kill -9 the task hub's process mid-work, start it again on the same SQLite file, and check
that the orchestration completes correctly with only the in-flight work run twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.host import crash_host

PROJECT_DIR = Path(__file__).resolve().parents[3]


class HubProcess:
    def __init__(self, state_dir: Path, log_file: Path, scenario: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.host.crash_host",
                str(state_dir),
                str(log_file),
                scenario,
            ],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def report(self, timeout: float = 120) -> dict:
        out, err = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0, f"exit {self.process.returncode}\n{err[-3000:]}"
        return json.loads(out.strip().splitlines()[-1])

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture
def processes() -> Iterator[list[HubProcess]]:
    started: list[HubProcess] = []
    yield started
    for process in started:
        process.close()


def executions(log_file: Path) -> Counter[int]:
    if not log_file.exists():
        return Counter()
    return Counter(int(line.split()[0]) for line in log_file.read_text().splitlines())


def wait_for(condition: Callable[[], bool], what: str, process: HubProcess, timeout=60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.process.poll() is not None:
            raise AssertionError(f"the hub exited before {what}: {process.process.stderr.read()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.005)


def pending_timers(state_dir: Path) -> int:
    """TimerFired messages waiting in the inbox, read straight from the hub's state file."""
    path = state_dir / "CrashHub.sqlite"
    if not path.exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        query = "SELECT COUNT(*) FROM inbox WHERE json_extract(event, '$.EventType') = 11"
        return db.execute(query).fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # schema not created yet
    finally:
        db.close()


def test_a_fan_out_killed_midway_completes_after_a_restart(
    tmp_path: Path, processes: list[HubProcess]
) -> None:
    log_file = tmp_path / "executions.log"
    first = HubProcess(tmp_path, log_file, "FanOut")
    processes.append(first)
    wait_for(lambda: sum(executions(log_file).values()) >= 100, "100 activities ran", first)
    first.kill()
    before = executions(log_file)
    assert sum(before.values()) < crash_host.FAN_OUT, "the fan-out finished before the kill"

    second = HubProcess(tmp_path, log_file, "FanOut")
    processes.append(second)
    report = second.report()

    assert report["status"] == "Completed", report
    assert json.loads(report["output"]) == sum(n * n for n in range(crash_host.FAN_OUT))
    ran = executions(log_file)
    assert set(ran) == set(range(crash_host.FAN_OUT))
    again = sum(ran.values()) - crash_host.FAN_OUT
    # Only what was running (or finished but not yet committed) when the process died.
    assert again <= 2 * crash_host.CONCURRENCY, f"{again} activities ran twice: {ran}"
    assert all(count <= 2 for count in ran.values())
    # The restarted hub replays once to recompute what it waits for, once to finish.
    assert report["replays"] <= 3, report


def test_an_orchestration_killed_while_a_timer_is_pending_completes_after_a_restart(
    tmp_path: Path, processes: list[HubProcess]
) -> None:
    log_file = tmp_path / "executions.log"
    first = HubProcess(tmp_path, log_file, "FanOutThenTimer")
    processes.append(first)
    wait_for(lambda: pending_timers(tmp_path) > 0, "the durable timer", first)
    first.kill()
    assert 1000 not in executions(log_file)

    second = HubProcess(tmp_path, log_file, "FanOutThenTimer")
    processes.append(second)
    report = second.report()

    assert report["status"] == "Completed", report
    assert json.loads(report["output"]) == sum(n * n for n in range(10)) + 1000 * 1000
    ran = executions(log_file)
    # Nothing was in flight at the kill: every activity ran exactly once.
    assert ran == Counter({**dict.fromkeys(range(10), 1), 1000: 1})
