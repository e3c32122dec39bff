from datetime import timedelta

import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    start = context.current_utc_datetime
    seconds = context.get_input() or 1
    yield context.create_timer(start + timedelta(seconds=seconds))
    waited = (context.current_utc_datetime - start).total_seconds()
    return {"waited_at_least": waited >= seconds}


main = df.Orchestrator.create(orchestrator_function)
