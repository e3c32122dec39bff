import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    raise Exception("child boom")
    yield  # a generator, as orchestrators are


main = df.Orchestrator.create(orchestrator_function)
