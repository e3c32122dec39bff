import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    count = context.get_input()
    squares = yield context.task_all([context.call_activity("Square", i) for i in range(count)])
    context.set_custom_status({"done": len(squares)})
    return {"count": len(squares), "sum": sum(squares)}


main = df.Orchestrator.create(orchestrator_function)
