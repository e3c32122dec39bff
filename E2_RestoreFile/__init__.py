"""Activity: restore one file (skipped when the target already holds it)."""

from typing import Any

from sitebackup.restore import activities


def main(request: Any) -> dict:
    return activities.restore_one(request)
