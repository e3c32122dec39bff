"""Prune: drop the snapshots a retention policy does not keep, then the stored content and
run pages no kept snapshot needs (``E2_PruneSnapshots``)."""
