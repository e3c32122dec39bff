"""What a backup or a restore carries from one generation to the next (pure).

Both orchestrators continue as new after every ``generation_size`` partitions, so the
parent's history holds at most one generation of partition completions, however big the
tree. The next generation's input carries the run under ``resume``: the fields here, common
to both, and what each kind adds (the backup its listing, the restore its counts).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from sitebackup import layout
from sitebackup.errors import JobError, echo
from sitebackup.summary import Totals

# Partitions one generation runs before it continues as new. The parent's history holds
# about 200 bytes per partition and every episode replays all of it, so without generations
# a million-file backup (10,000 partitions) would carry megabytes of history and replay them
# 10,000 times. With them the history stays the size a 16-partition run has, whatever the
# tree, at the cost of one extra episode per generation.
GENERATION_PARTITIONS = 16


def generation_size(concurrency: int) -> int:
    """Partitions per generation: whole waves, about ``GENERATION_PARTITIONS`` of them."""
    return max(1, GENERATION_PARTITIONS // concurrency) * concurrency


def is_count(value: Any) -> bool:
    """A non-negative integer (and not a bool, which JSON keeps apart)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclasses.dataclass
class Progress:
    """The part of a run every generation carries: the run's id (it names the partitions'
    instances, so it never changes), when it started, the totals so far, the partitions
    finished, and the first partition of the next generation."""

    run_id: str
    started_ms: int
    totals: Totals
    done: int
    next: int

    def progress_input(self) -> dict[str, Any]:
        return {
            "runId": self.run_id,
            "startedMs": self.started_ms,
            "totals": self.totals.to_dict(),
            "done": self.done,
            "next": self.next,
        }

    @staticmethod
    def read(
        value: Any, who: str, counts: Sequence[str] = (), bound: str | None = None
    ) -> tuple[dict[str, Any], dict[str, int]]:
        """Check a ``resume``: the common fields as keyword arguments, and the kind's own
        non-negative ``counts`` by name. With ``bound`` (one of ``counts``), ``next`` may
        not pass it. JobError names the first field that is wrong."""
        if not isinstance(value, dict):
            raise JobError(f"{who}: 'resume' must be an object")
        run_id = value.get("runId")
        if not layout.is_run_id(run_id):
            raise JobError(f"{who}: 'resume.runId' is not a run id: {echo(run_id)}")
        numbers = {}
        for key in ("startedMs", *counts, "done", "next"):
            if not is_count(value.get(key)):
                raise JobError(f"{who}: 'resume.{key}' must be a non-negative integer")
            numbers[key] = value[key]
        if bound is not None and numbers["next"] > numbers[bound]:
            raise JobError(f"{who}: 'resume.next' is past the last partition")
        try:
            totals = Totals.from_dict(value.get("totals"))
        except ValueError as exc:
            raise JobError(f"{who}: 'resume.totals' is not valid: {exc}") from None
        common = {
            "run_id": run_id,
            "started_ms": numbers.pop("startedMs"),
            "totals": totals,
            "done": numbers.pop("done"),
            "next": numbers.pop("next"),
        }
        return common, numbers
