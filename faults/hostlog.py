"""Follow the local host's log to see how far a backup got (pure parsing + a file tail).

The host logs every orchestration status change and the app logs its plan, so the log tells,
within a millisecond or so, which phase a backup is in: that is what lets the crash loop aim
its kills, and say afterwards where each one landed. The status API's custom status backs up
the plan line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

PARENT = "E2_BackupSiteContent"
PARTITION = "E2_BackupPartition"

_STATUS_LINE = re.compile(r"Orchestration (\w+) \(([^)]*)\) (\w+)\s*$")
_LISTED = re.compile(r"\] listed (\d+) files")
# The app's plan line ("<id>: 3000 files [to copy] in 16 partitions..."); the status API's
# custom status says the same (``feed_status``), in case the wording changes.
_PLANNED = re.compile(r": (\d+) files\b[^\n]*? in (\d+) partitions")

LISTING = "listing"
FAN_OUT = "fan-out"
FINAL = "final"
PHASES = (LISTING, FAN_OUT, FINAL)


@dataclass
class BackupProgress:
    """What the log has shown so far about one backup (its parent instance id)."""

    instance_id: str
    parent_status: str | None = None
    files_listed: int | None = None
    partitions_total: int | None = None
    partitions_started: set[str] = field(default_factory=set)
    partitions_completed: set[str] = field(default_factory=set)

    def feed(self, line: str) -> None:
        status = _STATUS_LINE.search(line)
        if status:
            name, instance, state = status.groups()
            if name == PARENT and instance == self.instance_id:
                self.parent_status = state
            elif name == PARTITION:
                # Partition ids derive from the parent's execution id, not its instance id:
                # the log followed must hold this one backup only.
                if state == "Running":
                    self.partitions_started.add(instance)
                elif state == "Completed":
                    self.partitions_completed.add(instance)
            return
        listed = _LISTED.search(line)
        if listed and self.parent_status is not None:
            self.files_listed = int(listed.group(1))
            return
        planned = _PLANNED.search(line)
        if planned and self.instance_id in line:
            self.partitions_total = int(planned.group(2))

    def feed_status(self, status: dict) -> None:
        """Take the partition count from the status JSON's custom status once copying began."""
        custom = status.get("customStatus")
        if isinstance(custom, dict) and custom.get("phase") not in (None, "listing"):
            total = custom.get("partitionsTotal")
            if isinstance(total, int) and self.partitions_total is None:
                self.partitions_total = total

    @property
    def phase(self) -> str:
        """Where the backup is: before copying, copying, or all partitions done."""
        if self.parent_status in ("Completed", "Failed", "Terminated"):
            return self.parent_status.lower()
        if self.partitions_total is None:
            return LISTING
        if len(self.partitions_completed) < self.partitions_total:
            return FAN_OUT
        return FINAL


class LogTail:
    """New complete lines of a growing log file, from a byte offset on."""

    def __init__(self, path: Path, offset: int | None = None) -> None:
        self.path = path
        self.offset = path.stat().st_size if offset is None and path.exists() else offset or 0
        self._partial = b""

    def lines(self) -> list[str]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        data = self._partial + data
        complete, _, self._partial = data.rpartition(b"\n")
        if not complete:
            return []
        return complete.decode("utf-8", "replace").split("\n")
