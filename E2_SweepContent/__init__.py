"""Activity: Delete (a few listing pages of) stored content no kept snapshot needs."""

from typing import Any

from sitebackup.prune import activities


def main(request: Any) -> Any:
    return activities.sweep_content(request)
