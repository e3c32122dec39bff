"""Sets a custom status of the requested number of characters, then waits for "finish"."""

import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    context.set_custom_status("x" * context.get_input())
    yield context.wait_for_external_event("finish")
    return "done"


main = df.Orchestrator.create(orchestrator_function)
