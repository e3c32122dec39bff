"""Activity: back up one file into a block blob (skipped when the blob already matches)."""

from typing import Any

from sitebackup import activities


def main(request: Any) -> dict:
    return activities.copy_one(request)
