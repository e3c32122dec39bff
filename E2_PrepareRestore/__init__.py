"""Activity: check the target, read the snapshot's header, plan the partitions."""

from typing import Any

from sitebackup.restore import activities


def main(request: Any) -> dict:
    return activities.prepare(request)
