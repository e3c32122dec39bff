import azure.durable_functions as df
import azure.functions as func


async def main(req: func.HttpRequest, starter: str) -> func.HttpResponse:
    client = df.DurableOrchestrationClient(starter)
    try:
        await client.signal_entity(df.EntityId("CounterEntity", "k"), "add", 1)
    except Exception as error:
        return func.HttpResponse(str(error), status_code=409)
    return func.HttpResponse("signalled", status_code=202)
