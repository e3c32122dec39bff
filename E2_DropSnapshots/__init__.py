"""Activity: Delete the headers of the snapshots a prune drops."""

from typing import Any

from sitebackup.prune import activities


def main(request: Any) -> Any:
    return activities.drop(request)
