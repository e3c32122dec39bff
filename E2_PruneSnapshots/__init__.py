"""Orchestrator: drop the snapshots a retention policy does not keep, then unneeded content."""

import azure.durable_functions as df

from sitebackup.prune import orchestration

main = df.Orchestrator.create(orchestration.prune)
