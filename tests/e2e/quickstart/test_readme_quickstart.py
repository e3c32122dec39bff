"""The README's quickstart, run as a newcomer would: in a fresh clone, nothing installed.

The first command must create the virtual environment, install Azurite, start Azurite and the
local host, back up the example tree, print a summary and stop what it started; run again, it
must skip every unchanged file.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[3]
README = PROJECT_DIR / "README.md"
EXAMPLE_TREE = PROJECT_DIR / "examples" / "site"


def quickstart_commands() -> list[str]:
    """The fenced blocks of the README's Quickstart section, in order."""
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Quickstart\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section, "README.md has no '## Quickstart' section"
    return [block.strip() for block in re.findall(r"```\w*\n(.*?)```", section.group(1), re.S)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env() -> dict[str, str]:
    """The environment of a fresh shell: no project venv, no app settings of ours."""
    venv_bin = str(PROJECT_DIR / ".venv" / "bin")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "AzureWebJobsStorage"}
        and not key.startswith(("BACKUP_", "SITE_BACKUP_", "DEVHOST_", "PYTEST_"))
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    return env


def describe(run: subprocess.CompletedProcess) -> str:
    return f"exit {run.returncode}\nstdout:\n{run.stdout[-3000:]}\nstderr:\n{run.stderr[-3000:]}"


def test_readme_has_exactly_two_quickstart_commands() -> None:
    commands = quickstart_commands()
    assert commands[:2] == ["./dev backup examples/site", "./dev test"], commands
    for command in commands[:2]:
        assert "\n" not in command, f"a quickstart block holds more than one command: {command!r}"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_first_quickstart_command_in_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "--quiet", str(PROJECT_DIR), str(clone)], check=True, timeout=120
    )
    command = quickstart_commands()[0].split()
    # A port of its own, so a host already running on the default port is not reused.
    url = f"http://127.0.0.1:{free_port()}"
    env = clean_env()

    first = subprocess.run(
        [*command, "--url", url, "--no-progress"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=780,
    )
    report = describe(first)
    assert first.returncode == 0, report
    files = sorted(p for p in EXAMPLE_TREE.rglob("*") if p.is_file())
    total_bytes = sum(p.stat().st_size for p in files)
    assert re.search(rf"\b{len(files)}\b", first.stdout), report
    assert (clone / ".venv" / "bin" / "python").exists()
    assert (clone / "node_modules" / ".bin" / "azurite").exists()

    second = subprocess.run(
        [*command, "--url", url, "--json"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = describe(second)
    assert second.returncode == 0, report
    result = json.loads(second.stdout)
    assert result["runtimeStatus"] == "Completed", result
    assert result["output"] == total_bytes, result
    assert result["filesSkipped"] == len(files), result
    assert result["filesCopied"] == 0, result

    # Nothing it started is left answering on the URL.
    with socket.socket() as sock:
        sock.settimeout(1)
        assert sock.connect_ex(("127.0.0.1", int(url.rsplit(":", 1)[1]))) != 0
