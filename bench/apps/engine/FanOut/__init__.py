"""N no-op activities in one task_all; the output is how many completed."""

from __future__ import annotations

import azure.durable_functions as df
from engine_counters import counted_orchestrator, episode


def orchestrator_function(context: df.DurableOrchestrationContext):
    episode(context.instance_id)
    n = int(context.get_input()["n"])
    results = yield context.task_all([context.call_activity("Noop", i) for i in range(n)])
    return len(results)


main = counted_orchestrator("FanOut", df.Orchestrator.create(orchestrator_function))
