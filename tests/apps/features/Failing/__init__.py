import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    yield context.call_activity("Echo", 1)
    raise ValueError("boom")


main = df.Orchestrator.create(orchestrator_function)
