"""The crash loop, short: SIGKILL the host once in each phase of a backup, and Azurite once
during the copies; restart, check (and re-run after the storage kill).

The long run (20 kills) is ``python -m faults crash-loop``; its last result is committed in
``faults/RESULTS.md``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.conftest import PROJECT_DIR


@pytest.mark.slow
def test_crash_loop_short_run_loses_nothing(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "faults",
        "crash-loop",
        "--runs",
        "4",
        "--files",
        "1500",
        "--seed",
        "7",
        "--workdir",
        str(tmp_path / "work"),
    ]
    done = subprocess.run(
        command, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "runs: 4, failures: 0" in output, output
    landed = re.findall(r"aimed (\S+)\s+landed (\S+)", output)
    assert [aimed for aimed, _ in landed] == ["listing", "fan-out", "final", "storage"], output
    # Each kill hit the backup before it finished (a kill after the end proves nothing).
    assert all(where in ("listing", "fan-out", "final") for _, where in landed), output
    assert re.search(r"storage lost \d+ \(reported, then repaired\)", output), output
