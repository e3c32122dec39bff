"""Sub-orchestrator: copy one partition of the file list and summarise it."""

import azure.durable_functions as df

from sitebackup import orchestration

main = df.Orchestrator.create(orchestration.partition)
