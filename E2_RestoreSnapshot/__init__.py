"""Orchestrator: restore a snapshot into a folder (plan, download in partitions, sweep)."""

import azure.durable_functions as df

from sitebackup.restore import orchestration

main = df.Orchestrator.create(orchestration.restore)
