"""What one benchmark run measured: rows of the table, targets, and their JSON form."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MiB = 1024 * 1024

# Row kinds.
CEILING = "ceiling"  # straight uploads with azure-storage-blob
CEILING_SINGLE_PUT = "ceiling-single-put"  # informational: whole file in one PUT
OURS = "ours"  # our backup end to end through the local host
RERUN = "rerun"  # our backup again on the unchanged tree (everything skipped)
ENGINE = "engine"  # N no-op activities in one task_all
ENGINE_PARTITIONED = "engine-partitioned"  # N no-op activities over sub-orchestrations
RCLONE = "rclone"  # peer: rclone copy (Debian's package)
AZ_CLI = "az"  # peer: az storage blob upload-batch (azure-cli from PyPI)
RESTORE_CEILING = "restore-ceiling"  # straight downloads of the backed-up blobs
RESTORE = "restore"  # our restore end to end through the local host
PEERS = (RCLONE, AZ_CLI)


def error_text(error: BaseException) -> str:
    """One line for the table: the error's type and the first line of its message."""
    lines = str(error).splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


@dataclass
class Row:
    """One line of the table: the best of ``runs`` of one scenario."""

    tree: str  # "A", "B", "C", "D" or "engine"
    kind: str
    label: str
    items: int  # files, or activities for the engine
    bytes: int = 0
    seconds: float | None = None  # the best run
    runs: list[float] = field(default_factory=list)
    workers: int | None = None
    peak_rss_mib: float | None = None  # the host's, highest over the runs
    cpu_host_s: float | None = None  # the local host's (with its children), best run
    cpu_client_s: float | None = None  # what drove the run: uploader, peer, or HTTP poller
    cpu_azurite_s: float | None = None  # best run
    ratio: float | None = None  # ours / ceiling on the tree's metric, set by the targets
    episodes: int | None = None  # engine: orchestrator episodes (replays), all instances
    instances: int | None = None  # engine: orchestration instances
    history_bytes: int | None = None  # scale: the parent orchestration's history, as JSON
    note: str = ""
    error: str | None = None

    @property
    def key(self) -> str:
        size = f"{self.items}" if self.tree in ("D", "S", "engine") else ""
        return f"{self.tree}{size}.{self.kind}"

    @property
    def items_per_s(self) -> float | None:
        if not self.seconds or self.error:
            return None
        return self.items / self.seconds

    @property
    def mib_per_s(self) -> float | None:
        if not self.seconds or self.error or not self.bytes:
            return None
        return self.bytes / MiB / self.seconds

    @property
    def cpu_ms_per_item(self) -> float | None:
        """Host, client and Azurite CPU milliseconds per file or activity, best run.

        On a machine where every process competes for the same cores, throughput follows
        this figure even when other work makes the wall-clock times noisy.
        """
        parts = (self.cpu_host_s, self.cpu_client_s, self.cpu_azurite_s)
        if self.error or not self.items or all(p is None for p in parts):
            return None
        return sum(p or 0.0 for p in parts) * 1000 / self.items

    @property
    def episodes_per_instance(self) -> float | None:
        if self.episodes is None or not self.instances:
            return None
        return self.episodes / self.instances

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            key=self.key,
            items_per_s=self.items_per_s,
            mib_per_s=self.mib_per_s,
            cpu_ms_per_item=self.cpu_ms_per_item,
            episodes_per_instance=self.episodes_per_instance,
        )
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Row:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class TargetResult:
    """One target: its value, the threshold, and whether it was met (None: not measured)."""

    key: str
    description: str
    row_key: str | None
    value: float | None
    threshold: float
    comparison: str  # ">=", ">" or "<="
    unit: str
    met: bool | None
    detail: str = ""

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "not measured"
        return "met" if self.met else "NOT met"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict}


@dataclass
class Report:
    meta: dict[str, Any]
    rows: list[Row]
    targets: list[TargetResult]

    def to_json(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "rows": [row.to_json() for row in self.rows],
            "targets": [target.to_json() for target in self.targets],
        }
