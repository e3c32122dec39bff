import azure.durable_functions as df

RATIO = 1 / 0


def orchestrator_function(context):
    yield context.call_activity("ImportFails", 1)


main = df.Orchestrator.create(orchestrator_function)
