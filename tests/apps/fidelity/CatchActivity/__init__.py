"""Catches an activity's failure and returns its text, as users do to parse the details."""

import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    try:
        yield context.call_activity("Raises", None)
    except Exception as error:  # noqa: BLE001 - the point is to look at it
        return {"type": type(error).__name__, "text": str(error)}
    return None


main = df.Orchestrator.create(orchestrator_function)
