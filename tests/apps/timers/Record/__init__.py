import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    return context.get_input()
    yield  # noqa: B901 - an orchestrator is a generator


main = df.Orchestrator.create(orchestrator_function)
