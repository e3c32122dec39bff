"""Runs one durable-client call (the SDK over the host's RPC endpoint) and answers JSON."""

import json
from datetime import UTC, datetime, timedelta

import azure.durable_functions as df
import azure.functions as func


def _status(status) -> dict | None:
    if not status:
        return None
    data = status.to_json()
    data["historyEvents"] = getattr(status, "historyEvents", None)
    return data


async def main(req: func.HttpRequest, starter: str) -> func.HttpResponse:
    client = df.DurableOrchestrationClient(starter)
    op = req.route_params["op"]
    instance_id = req.route_params.get("instanceId")
    args = req.get_json() if req.get_body() else {}
    try:
        if op == "status":
            result = _status(
                await client.get_status(
                    instance_id,
                    show_history=args.get("history", False),
                    show_history_output=args.get("output", False),
                    show_input=args.get("input", False),
                )
            )
        elif op == "raise":
            await client.raise_event(instance_id, args["name"], args.get("data"))
            result = "raised"
        elif op == "terminate":
            await client.terminate(instance_id, args.get("reason", "stop"))
            result = "terminated"
        elif op == "suspend":
            await client.suspend(instance_id, "pause")
            result = "suspended"
        elif op == "resume":
            await client.resume(instance_id, "go on")
            result = "resumed"
        elif op == "purge":
            result = (await client.purge_instance_history(instance_id)).instances_deleted
        elif op == "query":
            since = (
                datetime.fromisoformat(args["since"])
                if "since" in args
                else datetime.now(UTC) - timedelta(hours=1)
            )
            statuses = [df.OrchestrationRuntimeStatus(s) for s in args.get("statuses", [])]
            found = await client.get_status_by(created_time_from=since, runtime_status=statuses)
            result = sorted(s.instance_id for s in found)
        elif op == "all":
            result = sorted(s.instance_id for s in await client.get_status_all())
        elif op == "restart":
            result = await client.restart(instance_id, args.get("new_id", True))
        elif op == "rewind":
            await client.rewind(instance_id, "again")
            result = "rewound"
        elif op == "start":
            result = await client.start_new(args["name"], args.get("id"), args.get("input"))
        else:
            return func.HttpResponse(f"unknown op {op}", status_code=400)
    except Exception as error:  # the test reads the SDK's own message
        return func.HttpResponse(
            json.dumps({"error": str(error), "type": type(error).__name__}),
            status_code=409,
            mimetype="application/json",
        )
    return func.HttpResponse(json.dumps({"result": result}), mimetype="application/json")
