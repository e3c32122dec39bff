import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    options = df.RetryOptions(first_retry_interval_in_milliseconds=200, max_number_of_attempts=3)
    result = yield context.call_sub_orchestrator_with_retry(
        "FlakyChild", options, context.get_input()
    )
    return result


main = df.Orchestrator.create(orchestrator_function)
