"""Poll a status URL until the backup ends, reporting every answer."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from backup_client.api import BackupApi
from backup_client.errors import ApiError, HostUnreachable
from backup_client.progress import Snapshot, next_poll_delay

log = logging.getLogger(__name__)

# A progress bar needs fresh numbers: poll at least this often, whatever Retry-After says.
POLL_CEILING = 0.5
# How long a host may be unreachable (restarting, overloaded) before following gives up.
LOST_HOST_GRACE = 30.0


def follow(
    api: BackupApi,
    status_url: str,
    on_update: Callable[[Snapshot], None],
    poll_ceiling: float = POLL_CEILING,
    lost_host_grace: float = LOST_HOST_GRACE,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Snapshot:
    """Poll ``status_url`` until the instance is terminal; returns the last answer.

    Unreachable hosts and 5xx answers are retried until ``lost_host_grace`` seconds pass
    without a good answer; a 404 or another 4xx ends following at once.
    """
    last_good = clock()
    while True:
        try:
            answer = api.get_status(status_url)
        except (HostUnreachable, ApiError) as error:
            transient = isinstance(error, HostUnreachable) or (
                isinstance(error, ApiError) and error.status >= 500
            )
            if not transient or clock() - last_good > lost_host_grace:
                raise
            log.info("status poll failed (%s); retrying", error)
            sleep(min(1.0, max(poll_ceiling, 0.05)))
            continue
        last_good = clock()
        on_update(answer.snapshot)
        if answer.snapshot.is_terminal:
            return answer.snapshot
        sleep(next_poll_delay(answer.retry_after, poll_ceiling))
