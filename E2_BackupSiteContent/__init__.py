"""Orchestrator: back up a directory tree (list, copy in partitions, return the byte count)."""

import azure.durable_functions as df

from sitebackup import orchestration

main = df.Orchestrator.create(orchestration.backup)
