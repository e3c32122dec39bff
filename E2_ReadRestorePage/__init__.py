"""Activity: read one slice of a snapshot's file list."""

from typing import Any

from sitebackup.restore import activities


def main(request: Any) -> dict:
    return activities.read_slice(request)
