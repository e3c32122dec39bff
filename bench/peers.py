"""The peers: other tools a user would reach for, uploading the same trees in the same run.

- **rclone** (Debian's package): ``rclone copy TREE :azureblob:CONTAINER``, reaching Azurite
  through an account SAS URL (``RCLONE_AZUREBLOB_SAS_URL``).
- **az** (``azure-cli`` from PyPI, in a virtual environment of its own under the work
  directory, so its pins never touch ours): ``az storage blob upload-batch``.

Each peer is installed on first use by the benchmark itself: rclone with ``apt-get`` (as
root), azure-cli with ``pip``. A peer that cannot be installed gives a row that says why;
the rest of the benchmark runs. Secrets travel in the environment, never on a command line.
"""

from __future__ import annotations

import datetime
import logging
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import (
    AccountSasPermissions,
    BlobServiceClient,
    ResourceTypes,
    generate_account_sas,
)

from bench import BenchError
from bench.monitor import Monitor
from bench.results import AZ_CLI, RCLONE, Row
from bench.storage import container_name, fresh_azurite
from bench.trees import Tree
from devhost import azurite as azurite_launcher

log = logging.getLogger(__name__)

# The azure-cli release the peer runs (the newest the registry served when it was added).
AZ_CLI_REQUIREMENT = "azure-cli==2.91.0"
INSTALL_TIMEOUT_S = 1200.0
# Files in flight: rclone's --transfers (--checkers alike), az's --max-connections.
PEER_CONCURRENCY = 16


@dataclass(frozen=True)
class Tool:
    """An installed peer: how to run it and what it is."""

    kind: str
    version: str
    executable: Path


@dataclass(frozen=True)
class PeerRun:
    seconds: float
    cpu_client_s: float  # the peer's own process (and its children)
    cpu_azurite_s: float


class Unavailable(BenchError):
    """A peer could not be installed or started; the message says why."""


def _run_logged(command: Sequence[str], log_path: Path, timeout: float, **kwargs: object) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as out:
        out.write(f"$ {' '.join(command)}\n".encode())
        out.flush()
        try:
            done = subprocess.run(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
                **kwargs,  # type: ignore[arg-type]
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise Unavailable(f"{command[0]}: {error}") from None
    if done.returncode != 0:
        tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or [""]
        raise Unavailable(f"{' '.join(command[:3])} exited {done.returncode}: {tail[0][:200]}")


def _version(command: Sequence[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError) as error:
        raise Unavailable(f"{command[0]} does not run: {error}") from None
    return done.stdout.strip().splitlines()[0] if done.stdout.strip() else "?"


def ensure_rclone(workdir: Path) -> Tool:
    """rclone from PATH, else Debian's package installed with apt-get (root only)."""
    found = shutil.which("rclone")
    if found is None:
        if not shutil.which("apt-get"):
            raise Unavailable("rclone is not installed and there is no apt-get to install it")
        if os.geteuid() != 0:
            raise Unavailable("rclone is not installed; `apt-get install rclone` needs root")
        log.warning("installing rclone (Debian's package); log: %s", workdir / "rclone.log")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        log_path = workdir / "rclone.log"
        try:
            _run_logged(["apt-get", "install", "-y", "-q", "rclone"], log_path, 600, env=env)
        except Unavailable:
            # A fresh machine may not have the package lists yet.
            _run_logged(["apt-get", "update", "-q"], log_path, 600, env=env)
            _run_logged(["apt-get", "install", "-y", "-q", "rclone"], log_path, 600, env=env)
        found = shutil.which("rclone")
        if found is None:
            raise Unavailable("apt-get installed rclone but it is not on PATH")
    version = _version([found, "version"]).split()[-1].removeprefix("v")
    return Tool(RCLONE, version, Path(found))


def ensure_az(workdir: Path, requirement: str = AZ_CLI_REQUIREMENT) -> Tool:
    """azure-cli in ``workdir/az-venv`` (created and installed with pip on first use)."""
    venv = workdir / "az-venv"
    exe = venv / "bin" / "az"
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    if not exe.exists() or not stamp.exists() or stamp.read_text() != requirement:
        log.warning("installing %s into %s (a few minutes, once)", requirement, venv)
        log_path = workdir / "az-install.log"
        if not python.exists():
            _run_logged([sys.executable, "-m", "venv", str(venv)], log_path, 300)
        _run_logged(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                requirement,
            ],
            log_path,
            INSTALL_TIMEOUT_S,
        )
        if not exe.exists():
            raise Unavailable(f"pip installed {requirement} but {exe} is missing")
        stamp.write_text(requirement)
    script = "import importlib.metadata as m; print(m.version('azure-cli'))"
    return Tool(AZ_CLI, _version([str(python), "-c", script]), exe)


def account_sas_url(server: azurite_launcher.Azurite, hours: float = 6.0) -> str:
    """An account SAS URL for the blob service of ``server`` (what rclone's sas_url takes)."""
    expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=hours)
    token = generate_account_sas(
        azurite_launcher.ACCOUNT_NAME,
        azurite_launcher.ACCOUNT_KEY,
        ResourceTypes(service=True, container=True, object=True),
        AccountSasPermissions(read=True, write=True, list=True, create=True, add=True),
        expiry=expiry,
    )
    url = f"http://{server.host}:{server.ports['blob']}/{azurite_launcher.ACCOUNT_NAME}"
    return f"{url}?{token}"


def command_for(tool: Tool, tree: Tree, container: str, workdir: Path) -> list[str]:
    """The peer's upload of ``tree`` into ``container``: blob name = path in the tree."""
    if tool.kind == RCLONE:
        return [
            str(tool.executable),
            "copy",
            str(tree.root),
            f":azureblob:{container}",
            "--transfers",
            str(PEER_CONCURRENCY),
            "--checkers",
            str(PEER_CONCURRENCY),
            "--config",
            str(workdir / "rclone.conf"),  # empty: the remote is given on the command line
            "--log-level",
            "ERROR",
        ]
    return [
        str(tool.executable),
        "storage",
        "blob",
        "upload-batch",
        "--destination",
        container,
        "--source",
        str(tree.root),
        "--max-connections",
        str(PEER_CONCURRENCY),
        "--only-show-errors",
        "--output",
        "none",
    ]


def environment_for(tool: Tool, server: azurite_launcher.Azurite, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "RCLONE_"))}
    if tool.kind == RCLONE:
        env["RCLONE_AZUREBLOB_SAS_URL"] = account_sas_url(server)
        return env
    env.update(
        AZURE_STORAGE_CONNECTION_STRING=server.connection_string,
        AZURE_CONFIG_DIR=str(workdir / "az-config"),
        AZURE_CORE_COLLECT_TELEMETRY="false",
        AZURE_CORE_NO_COLOR="true",
        AZURE_CORE_SURVEY_MESSAGE="false",
    )
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _check_uploaded(server: azurite_launcher.Azurite, container: str, tree: Tree) -> None:
    """A peer that stored less than the tree measured nothing: every blob must be there."""
    service = BlobServiceClient.from_connection_string(server.connection_string)
    with service:
        try:
            listed = service.get_container_client(container).list_blobs()
            blobs = {b.name: b.size for b in listed}
        except ResourceNotFoundError:  # the peer did not even create the container
            blobs = {}
    wanted = {e.relpath: e.size for e in tree.entries}
    if blobs != wanted:
        missing = sorted(set(wanted) - set(blobs))[:3]
        raise BenchError(
            f"the peer stored {len(blobs)} blobs ({sum(blobs.values())} bytes), expected "
            f"{len(wanted)} ({tree.total_bytes} bytes); missing e.g. {missing}"
        )


def peer_run(tool: Tool, workdir: Path, tree: Tree, timeout: float) -> PeerRun:
    """One upload of ``tree`` by ``tool`` on a fresh Azurite, checked blob by blob."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "rclone.conf").touch()
    with fresh_azurite(workdir / "azurite") as server:
        container = container_name(f"{tool.kind}{tree.spec.name}")
        env = environment_for(tool, server, workdir)
        command = command_for(tool, tree, container, workdir)
        log_path = workdir / f"{tool.kind}-run.log"
        if tool.kind == AZ_CLI:
            # upload-batch needs the container; rclone creates its own.
            with BlobServiceClient.from_connection_string(server.connection_string) as service:
                service.create_container(container)
        # The peer is a child of this process: its CPU shows in RUSAGE_CHILDREN once reaped
        # (Azurite, the other child, is still running and does not count there yet).
        before = _children_cpu()
        with Monitor({"azurite": server.process.pid}) as monitor:
            started = time.perf_counter()
            _run_logged(command, log_path, timeout, env=env)
            seconds = time.perf_counter() - started
        client = _children_cpu() - before
        _check_uploaded(server, container, tree)
    assert monitor.usage is not None
    log.info("%s %s: %.2f s", tool.kind, tree.spec.name, seconds)
    return PeerRun(seconds, client, monitor.usage.cpu["azurite"])


def peer_row(
    tree_label: str, tree: Tree, kind: str, tool: Tool | None, runs: Sequence[PeerRun], why: str
) -> Row:
    """The best run of one peer; without a tool, a row that says why it did not run."""
    name = tool.kind if tool else kind
    row = Row(tree_label, kind, f"{tree.spec.name} {name}", tree.files, tree.total_bytes)
    if tool is None or not runs:
        row.note = f"not run: {why}"
        return row
    best = min(runs, key=lambda r: r.seconds)
    row.seconds = best.seconds
    row.runs = [round(r.seconds, 4) for r in runs]
    row.workers = PEER_CONCURRENCY
    row.cpu_client_s = best.cpu_client_s
    row.cpu_azurite_s = best.cpu_azurite_s
    row.note = f"{tool.kind} {tool.version}, best of {len(runs)}, {PEER_CONCURRENCY} in flight"
    return row


def ensure_tools(workdir: Path, kinds: Sequence[str]) -> Mapping[str, Tool | str]:
    """Each wanted peer installed, or the reason it could not be."""
    found: dict[str, Tool | str] = {}
    for kind in kinds:
        try:
            found[kind] = ensure_rclone(workdir) if kind == RCLONE else ensure_az(workdir)
        except Unavailable as error:
            log.warning("peer %s not available: %s", kind, error)
            found[kind] = str(error)
    return found
