"""What every timer function does: start the Record orchestration with what it received."""

import uuid

import azure.durable_functions as df
import azure.functions as func


async def record(prefix: str, timer: func.TimerRequest, starter: str) -> None:
    client = df.DurableOrchestrationClient(starter)
    seen = {
        "type": type(timer).__name__,
        "past_due": timer.past_due,
        "schedule_status": timer.schedule_status,
        "schedule": timer.schedule,
    }
    await client.start_new("Record", f"{prefix}-{uuid.uuid4().hex}", seen)
