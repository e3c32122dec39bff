import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    value = context.get_input()
    yield context.call_activity("Echo", value)
    return {"input": value, "type": type(value).__name__}


main = df.Orchestrator.create(orchestrator_function)
