import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    args = context.get_input()
    options = df.RetryOptions(first_retry_interval_in_milliseconds=200, max_number_of_attempts=3)
    try:
        attempt = yield context.call_activity_with_retry("Flaky", options, args)
    except Exception as error:
        return {"failed": str(error).split(" \n ")[0]}
    return {"succeeded_on_attempt": attempt}


main = df.Orchestrator.create(orchestrator_function)
