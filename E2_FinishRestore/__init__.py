"""Activity: remove temporary files left in the target."""

from typing import Any

from sitebackup.restore import activities


def main(request: Any) -> dict:
    return activities.finish(request)
