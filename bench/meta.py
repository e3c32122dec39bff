"""Where and with what a run was measured: date, commit, machine, versions."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from bench.storage import PROJECT_DIR


@dataclass(frozen=True)
class GitState:
    """The commit the measured code is at, and whether the tree had changes on top of it
    (None: not a git checkout). A result of a dirty tree measured code no commit holds."""

    commit: str
    dirty: bool | None


def _git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True, timeout=30
    ).stdout


def git_state(project: Path = PROJECT_DIR) -> GitState:
    try:
        commit = _git(project, "rev-parse", "--short", "HEAD").strip()
        # Tracked files only: results, logs and work folders the run writes are not code.
        changes = _git(project, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return GitState("unknown", None)
    return GitState(commit, bool(changes.strip()))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _azurite_version(project: Path) -> str:
    try:
        package = json.loads((project / "node_modules" / "azurite" / "package.json").read_text())
        return str(package.get("version", "?"))
    except (OSError, ValueError):
        return "?"


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "?"


def load_average() -> float:
    """The 1-minute load average: other work competing for the cores makes runs noisy."""
    return round(psutil.getloadavg()[0], 2)


def collect(command: str, project: Path = PROJECT_DIR) -> dict[str, Any]:
    memory = psutil.virtual_memory().total / 1024**3
    git = git_state(project)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git.commit,
        "dirty": git.dirty,
        "machine": f"{os.cpu_count()} cores ({_cpu_model()}), {memory:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}",
        "versions": f"Python {platform.python_version()}, Azurite {_azurite_version(project)}, "
        f"azure-storage-blob {_version('azure-storage-blob')}, "
        f"azure-functions-durable {_version('azure-functions-durable')}",
        "command": command,
        "load_before": load_average(),
    }
