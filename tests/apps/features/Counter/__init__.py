import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    count = context.get_input() or 0
    yield context.call_activity("Echo", count)
    if count < 3:
        context.continue_as_new(count + 1)
        return None
    return count


main = df.Orchestrator.create(orchestrator_function)
