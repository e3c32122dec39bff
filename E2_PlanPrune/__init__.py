"""Activity: Decide which snapshots a retention policy keeps."""

from typing import Any

from sitebackup.prune import activities


def main(request: Any) -> Any:
    return activities.plan(request)
