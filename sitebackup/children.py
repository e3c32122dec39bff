"""Instance ids of an orchestration's sub-orchestrations, derived from the parent's id.

The Durable Functions extension does not pass a terminate (or a purge) on to the
sub-orchestrations of an instance: the parent shows Terminated at once while its partitions
go on copying. So the sub-orchestrations get ids anyone can derive from the parent's id,
``<parent id>:p<index>`` for partitions and ``<parent id>:prune`` for a scheduled backup's
prune, and a client that terminates or purges a backup (or a restore) finds them with one
instance query by the id prefix ``<parent id>:`` and acts on them too.

The same ids serve every run of a destination: a run replaces the previous run's finished
partitions instead of adding new instances to the task hub, and a run started while a
partition of an earlier run still copies cannot start that partition (the host refuses an id
that is still running), so two runs never copy into one destination at once.
"""

from __future__ import annotations

SEPARATOR = ":"


def partition_id(parent_id: str, index: int) -> str:
    """The instance id of the partition ``index`` of ``parent_id``."""
    return f"{parent_id}{SEPARATOR}p{index:05d}"


def prune_id(parent_id: str) -> str:
    """The instance id of the prune a scheduled backup runs as its last step."""
    return f"{parent_id}{SEPARATOR}prune"


def prefix_of(parent_id: str) -> str:
    """What every sub-orchestration id of ``parent_id`` starts with (for an instance query)."""
    return parent_id + SEPARATOR
