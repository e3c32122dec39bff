import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    if context.get_input() == "catch":
        try:
            yield context.call_activity("Explode", "kaboom")
        except Exception as error:
            return str(error).split(" \n ")[0]
    yield context.call_activity("Explode", "kaboom")
    return "unreachable"


main = df.Orchestrator.create(orchestrator_function)
