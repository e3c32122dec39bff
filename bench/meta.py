"""Where and with what a run was measured: date, commit, machine, versions."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from bench.storage import PROJECT_DIR


def _commit(project: Path) -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=project,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head


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
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(project),
        "machine": f"{os.cpu_count()} cores ({_cpu_model()}), {memory:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}",
        "versions": f"Python {platform.python_version()}, Azurite {_azurite_version(project)}, "
        f"azure-storage-blob {_version('azure-storage-blob')}, "
        f"azure-functions-durable {_version('azure-functions-durable')}",
        "command": command,
        "load_before": load_average(),
    }
