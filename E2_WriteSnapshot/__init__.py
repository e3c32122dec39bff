"""Activity: Write a backup run's snapshot header, last, in one put."""

from typing import Any

from sitebackup import run_pages


def main(request: Any) -> Any:
    return run_pages.write_snapshot(request)
