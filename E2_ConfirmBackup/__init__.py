"""Activity: confirm that storage holds every file of the run, by size and MD5 (one listing)."""

from typing import Any

from sitebackup import confirm_activity


def main(request: Any) -> dict:
    return confirm_activity.confirm_backup(request)
