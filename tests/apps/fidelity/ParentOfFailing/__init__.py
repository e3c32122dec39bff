"""Calls a sub-orchestration that fails and returns what the failure looks like here."""

import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    try:
        yield context.call_sub_orchestrator("ChildFails", None)
    except Exception as error:  # noqa: BLE001 - the point is to look at it
        return {"type": type(error).__name__, "text": str(error)}
    return None


main = df.Orchestrator.create(orchestrator_function)
