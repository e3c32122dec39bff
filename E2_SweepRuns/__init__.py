"""Activity: Delete (a few listing pages of) run pages no kept snapshot needs."""

from typing import Any

from sitebackup.prune import activities


def main(request: Any) -> Any:
    return activities.sweep_runs(request)
