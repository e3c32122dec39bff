"""A task hub in its own process, for crash tests: ``python -m tests.integration.host.crash_host``.

Arguments: STATE_DIR LOG_FILE SCENARIO. Starts the scenario's instance unless the store
already has it, runs the hub until the instance finishes and prints its status as one JSON
line. Every activity appends a line to LOG_FILE when it starts, so a test can count how often
each one ran across a SIGKILL and a restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import azure.durable_functions as df

from tests.integration.host.support import StandInApp, running_hub, wait_finished

INSTANCE_ID = "crash"
FAN_OUT = 300
CONCURRENCY = 4
TIMER_SECONDS = 2.0


def _logged(log_file: Path, line: str) -> None:
    fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def fan_out(ctx: df.DurableOrchestrationContext):
    values = yield ctx.task_all([ctx.call_activity("Work", n) for n in range(FAN_OUT)])
    return sum(values)


def fan_out_then_timer(ctx: df.DurableOrchestrationContext):
    values = yield ctx.task_all([ctx.call_activity("Work", n) for n in range(10)])
    yield ctx.create_timer(ctx.current_utc_datetime + timedelta(seconds=TIMER_SECONDS))
    last = yield ctx.call_activity("Work", 1000)
    return sum(values) + last


def build_app(log_file: Path) -> StandInApp:
    async def work(n: int) -> int:
        _logged(log_file, f"{n} {os.getpid()}")
        await asyncio.sleep(0.01)
        return n * n

    return StandInApp({"FanOut": fan_out, "FanOutThenTimer": fan_out_then_timer}, {"Work": work})


async def main(state_dir: Path, log_file: Path, scenario: str) -> None:
    app = build_app(log_file)
    async with running_hub(state_dir, app, activities=CONCURRENCY, hub_name="CrashHub") as hub:
        if await hub.get_instance(INSTANCE_ID) is None:
            await hub.start_instance(scenario, INSTANCE_ID, None)
        began = time.monotonic()
        done = await wait_finished(hub, INSTANCE_ID, timeout=120)
        report = {
            "status": done.runtime_status.value,
            "output": done.output,
            "replays": hub.episode_counts.get(INSTANCE_ID, 0),
            "seconds": round(time.monotonic() - began, 3),
        }
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
