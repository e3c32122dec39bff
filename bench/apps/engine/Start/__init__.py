"""HTTP starter: POST /orchestrators/{functionName} with the orchestrator's input as JSON."""

from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func


async def main(req: func.HttpRequest, starter: str) -> func.HttpResponse:
    client = df.DurableOrchestrationClient(starter)
    try:
        payload = req.get_json()
    except ValueError:
        return func.HttpResponse('the body must be JSON, e.g. {"n": 1000}', status_code=400)
    instance_id = await client.start_new(req.route_params["functionName"], None, payload)
    return client.create_check_status_response(req, instance_id)
