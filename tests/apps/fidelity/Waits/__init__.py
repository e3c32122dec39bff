"""Waits for the external event "go" and returns its value."""

import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    value = yield context.wait_for_external_event("go")
    return value


main = df.Orchestrator.create(orchestrator_function)
