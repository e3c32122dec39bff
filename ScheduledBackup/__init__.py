"""Timer trigger: on every occurrence of ``BACKUP_SCHEDULE``, back up each root listed in
``BACKUP_SCHEDULE_ROOTS`` (nothing, and one log line, when that setting is empty)."""

import azure.functions as func

from sitebackup import scheduled


async def main(timer: func.TimerRequest, starter: str) -> None:
    await scheduled.run_occurrence(starter, past_due=timer.past_due)
