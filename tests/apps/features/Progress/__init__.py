import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    context.set_custom_status({"stage": "started"})
    echoed = yield context.call_activity("Echo", "x")
    context.set_custom_status({"stage": "done", "echo": echoed})
    return echoed


main = df.Orchestrator.create(orchestrator_function)
