import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    value = context.get_input()
    doubled = yield context.call_activity("Echo", value * 10)
    return {"value": doubled, "id": context.instance_id, "parent": context.parent_instance_id}


main = df.Orchestrator.create(orchestrator_function)
