import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    entity = df.EntityId("CounterEntity", "k")
    value = yield context.call_entity(entity, "add", 1)
    return value


main = df.Orchestrator.create(orchestrator_function)
