"""N no-op activities in partitions of P, one FanOut sub-orchestration per partition."""

from __future__ import annotations

import azure.durable_functions as df
from engine_counters import counted_orchestrator, episode


def orchestrator_function(context: df.DurableOrchestrationContext):
    episode(context.instance_id)
    spec = context.get_input()
    n, size = int(spec["n"]), int(spec["partition"])
    parts = [min(size, n - start) for start in range(0, n, size)]
    counts = yield context.task_all(
        [context.call_sub_orchestrator("FanOut", {"n": part}) for part in parts]
    )
    return sum(counts)


main = counted_orchestrator("FanOutPartitioned", df.Orchestrator.create(orchestrator_function))
