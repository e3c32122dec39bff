"""Sub-orchestrator: restore one slice of a snapshot's file list and summarise it."""

import azure.durable_functions as df

from sitebackup.restore import orchestration

main = df.Orchestrator.create(orchestration.partition)
