"""Activity: create the backup container, then list the files under the root."""

from typing import Any

from sitebackup import activities


def main(job: Any) -> dict:
    return activities.list_files(job)
