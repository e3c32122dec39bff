import azure.durable_functions as df
import azure.functions as func


async def main(req: func.HttpRequest, client: str) -> func.HttpResponse:
    durable = df.DurableOrchestrationClient(client)
    payload = req.get_json() if req.get_body() else None
    instance_id = await durable.start_new(req.route_params["functionName"], None, payload)
    return await durable.wait_for_completion_or_create_check_status_response(
        req, instance_id, timeout_in_milliseconds=20000, retry_interval_in_milliseconds=100
    )
