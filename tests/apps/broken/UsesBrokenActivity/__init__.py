import azure.durable_functions as df


def orchestrator_function(context):
    result = yield context.call_activity("ImportFails", 1)
    return result


main = df.Orchestrator.create(orchestrator_function)
