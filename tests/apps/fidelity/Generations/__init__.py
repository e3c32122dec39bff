"""Continues as new once, after a durable timer of the requested seconds."""

from datetime import timedelta

import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    state = context.get_input()
    if state["generation"] == 1:
        yield context.create_timer(
            context.current_utc_datetime + timedelta(seconds=state["seconds"])
        )
        context.continue_as_new({**state, "generation": 2})
        return None
    yield context.wait_for_external_event("finish")
    return state["generation"]


main = df.Orchestrator.create(orchestrator_function)
