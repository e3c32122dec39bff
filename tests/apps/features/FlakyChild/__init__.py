import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    attempt = yield context.call_activity("Flaky", context.get_input())
    return {"attempt": attempt, "id": context.instance_id}


main = df.Orchestrator.create(orchestrator_function)
