"""task_any of an external event and a durable timer; the timer is cancelled on approval."""

from datetime import timedelta

import azure.durable_functions as df


def orchestrator_function(context: df.DurableOrchestrationContext):
    seconds = (context.get_input() or {}).get("timeout", 60)
    timer = context.create_timer(context.current_utc_datetime + timedelta(seconds=seconds))
    approval = context.wait_for_external_event("Approval")
    context.set_custom_status("waiting")
    winner = yield context.task_any([approval, timer])
    if winner == approval:
        timer.cancel()
        return {"approved": approval.result}
    return "timed out"


main = df.Orchestrator.create(orchestrator_function)
