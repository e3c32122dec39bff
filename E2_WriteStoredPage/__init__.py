"""Activity: Record what one partition stored (the run's stored page, part of the snapshot)."""

from typing import Any

from sitebackup import run_pages


def main(request: Any) -> Any:
    return run_pages.write_stored_page(request)
