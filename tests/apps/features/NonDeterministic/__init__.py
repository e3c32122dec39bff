"""Schedules a different activity once replayed: the host must fail it as non-deterministic."""

import azure.durable_functions as df

_seen: set[str] = set()


def orchestrator_function(context: df.DurableOrchestrationContext):
    first_time = context.instance_id not in _seen
    _seen.add(context.instance_id)
    yield context.call_activity("Echo" if first_time else "Flaky", {"key": "nd", "fail": 0})
    return "should not complete"


main = df.Orchestrator.create(orchestrator_function)
