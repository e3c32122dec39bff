import azure.functions as func

from ..shared.record import record


async def main(timer: func.TimerRequest, starter: str) -> None:
    await record("startup", timer, starter)
