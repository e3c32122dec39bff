import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    auto = yield context.call_sub_orchestrator("Child", 1)
    explicit = yield context.call_sub_orchestrator("Child", 2, f"{context.instance_id}-child")
    return {"auto": auto, "explicit": explicit}


main = df.Orchestrator.create(orchestrator_function)
