"""Start and stop Azurite (the Azure Storage emulator) from the project's ``node_modules``.

Used by the host's command line (when ``AzureWebJobsStorage`` is ``UseDevelopmentStorage=true``
and nothing answers on the emulator's ports) and by the tests (on free ports, with a data
folder of their own).
"""

from __future__ import annotations

import logging
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from devhost.ready import terminate

log = logging.getLogger(__name__)

# The emulator's well-known development account (public, documented by Microsoft).
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
DEFAULT_PORTS = {"blob": 10000, "queue": 10001, "table": 10002}
DEVELOPMENT_STORAGE = "UseDevelopmentStorage=true"

# azurite-blob says "listens on", the combined azurite "is successfully listening at".
_LISTENING = re.compile(
    r"Azurite (\w+) service (?:successfully listens on|is successfully listening at) "
    r"http://[^:]+:(\d+)"
)


class AzuriteError(RuntimeError):
    """Azurite could not be found or did not start."""


def connection_string(ports: dict[str, int], host: str = "127.0.0.1") -> str:
    parts = [
        "DefaultEndpointsProtocol=http",
        f"AccountName={ACCOUNT_NAME}",
        f"AccountKey={ACCOUNT_KEY}",
    ]
    for service, port in ports.items():
        parts.append(f"{service.capitalize()}Endpoint=http://{host}:{port}/{ACCOUNT_NAME}")
    return ";".join(parts) + ";"


def is_listening(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def find_executable(name: str, start: Path | None = None) -> Path:
    """``node_modules/.bin/<name>`` in ``start`` or a parent folder, else on PATH."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents, Path(__file__).resolve().parent.parent):
        candidate = folder / "node_modules" / ".bin" / name
        if candidate.exists():
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise AzuriteError(
        f"'{name}' was not found in node_modules/.bin or on PATH; run 'npm ci' in the project "
        "folder (package.json pins Azurite)"
    )


@dataclass
class Azurite:
    """A running Azurite process and the ports it listens on."""

    process: subprocess.Popen
    ports: dict[str, int]
    log_path: Path
    host: str = "127.0.0.1"
    _stopped: bool = field(default=False, repr=False)

    @property
    def connection_string(self) -> str:
        return connection_string(self.ports, self.host)

    def stop(self, timeout: float = 10.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        terminate(self.process, timeout)

    def __enter__(self) -> Azurite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    workdir: Path,
    services: tuple[str, ...] = ("blob",),
    ports: dict[str, int] | None = None,
    in_memory: bool = True,
    host: str = "127.0.0.1",
    project_dir: Path | None = None,
    timeout: float = 60.0,
) -> Azurite:
    """Start Azurite serving ``services``; port 0 (the default) lets the OS choose.

    Returns once every service listens; the actual ports are read from Azurite's output.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    ports = ports or {}
    if len(services) == 1:
        exe = find_executable(f"azurite-{services[0]}", project_dir)
    else:
        exe = find_executable("azurite", project_dir)
    args = [str(exe), "--skipApiVersionCheck", "--disableTelemetry", "--loose", "--silent"]
    for service in services:
        args += [f"--{service}Host", host, f"--{service}Port", str(ports.get(service, 0))]
    if in_memory:
        args.append("--inMemoryPersistence")
    else:
        args += ["--location", str(workdir)]
    log_path = workdir / "azurite.out"
    out = open(log_path, "w")  # noqa: SIM115 - the child owns it for its lifetime
    process = subprocess.Popen(
        args,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=workdir,
        start_new_session=True,
    )
    out.close()
    deadline = time.monotonic() + timeout
    found: dict[str, int] = {}
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        for service, port in _LISTENING.findall(text):
            found[service.lower()] = int(port)
        if all(s in found for s in services):
            return Azurite(process, {s: found[s] for s in services}, log_path, host)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    if process.poll() is None:
        process.kill()
        process.wait()
    raise AzuriteError(
        f"Azurite did not start within {timeout:.0f} s (exit code {process.returncode}); "
        f"its output: {log_path.read_text(errors='replace')[-2000:]!r}"
    )
