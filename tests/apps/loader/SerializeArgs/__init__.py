"""Microsoft's serialize_arguments sample: a custom class crosses to an activity and back."""

import azure.durable_functions as df

from ..shared_code.my_classes import SerializableClass


def orchestrator_function(context: df.DurableOrchestrationContext):
    number = context.get_input()
    result = yield context.call_activity("GetObject", SerializableClass(number))
    return {"number": result.number, "class": type(result).__module__}


main = df.Orchestrator.create(orchestrator_function)
