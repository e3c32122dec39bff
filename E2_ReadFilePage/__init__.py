"""Activity: Read the files one partition of a backup run copies (the run's copy page)."""

from typing import Any

from sitebackup import run_pages


def main(request: Any) -> Any:
    return run_pages.read_copy_page(request)
