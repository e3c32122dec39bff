"""Instance ids of an orchestration's sub-orchestrations, derived from the parent's id.

The Durable Functions extension does not pass a terminate (or a purge) on to the
sub-orchestrations of an instance: the parent shows Terminated at once while its partitions
go on copying. So the sub-orchestrations get ids anyone can derive from the parent's id,
``<parent id>:<run>:p<index>`` for partitions and ``<parent id>:<run>:prune`` for a scheduled
backup's prune, and a client that terminates or purges a backup (or a restore) finds them
with one instance query by the id prefix ``<parent id>:`` and acts on them too.

``<run>`` is new for every run of the parent (whose id repeats: one per destination). The
extension refuses to start a sub-orchestration over a running instance of the same id, so
with ids shared between runs a re-run could not start a partition an earlier, terminated run
still had running. The starter refuses such a re-run up front instead (``active_children``)
and purges the earlier run's finished children, so the task hub does not grow run by run.
"""

from __future__ import annotations

SEPARATOR = ":"


def run_token(uuid: object) -> str:
    """A short token naming one run, from the orchestration's replay-safe ``new_uuid()``."""
    return str(uuid).replace("-", "")[:12]


def partition_id(parent_id: str, run: str, index: int) -> str:
    """The instance id of the partition ``index`` of the run ``run`` of ``parent_id``."""
    return f"{partition_prefix(parent_id, run)}{index:05d}"


def partition_prefix(parent_id: str, run: str) -> str:
    """What the ids of every partition of the run ``run`` of ``parent_id`` start with."""
    return f"{parent_id}{SEPARATOR}{run}{SEPARATOR}p"


def prune_id(parent_id: str, run: str) -> str:
    """The instance id of the prune a scheduled backup's run ``run`` ends with."""
    return f"{parent_id}{SEPARATOR}{run}{SEPARATOR}prune"


def prefix_of(parent_id: str) -> str:
    """What every sub-orchestration id of ``parent_id`` starts with (for an instance query)."""
    return parent_id + SEPARATOR
