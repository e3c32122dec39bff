"""Fixtures of the console tests: the backup app on the local host, and a browser on it.

A failed test leaves a screenshot of the page it had open in ``test-artifacts/console/``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.console import browser
from tests.support.host_process import HostProcess, http_request, running_host

PROJECT_DIR = Path(__file__).resolve().parents[3]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def allowed_root(tmp_path: Path) -> Path:
    root = tmp_path / "roots"
    root.mkdir()
    return root


@pytest.fixture
def restore_root(tmp_path: Path) -> Path:
    root = tmp_path / "restores"
    root.mkdir()
    return root


@pytest.fixture
def host_env(
    storage_connection_string: str, allowed_root: Path, restore_root: Path, unique_name: str
) -> dict[str, str]:
    return {
        "AzureWebJobsStorage": storage_connection_string,
        "BACKUP_ALLOWED_ROOTS": str(allowed_root),
        "BACKUP_RESTORE_ROOTS": str(restore_root),
        # Each test its own backup and meta containers: snapshots of other tests stay apart.
        "BACKUP_CONTAINER": unique_name,
        "BACKUP_META_CONTAINER": unique_name + "-meta",
        "BACKUP_PARTITION_SIZE": "10",
        "BACKUP_RETRY_FIRST_INTERVAL_MS": "200",
    }


@pytest.fixture
def console_host(tmp_path: Path, host_env: dict[str, str]) -> Iterator[HostProcess]:
    with running_host(PROJECT_DIR, tmp_path / "state", env=host_env) as host:
        yield host


MANY = 10_000


@pytest.fixture(scope="session")
def crowded_host(tmp_path_factory, azurite):
    """A task hub with 10,000 backup instances (each fails at once on a bad input)."""
    state = tmp_path_factory.mktemp("crowded")
    env = {"AzureWebJobsStorage": azurite.connection_string, "BACKUP_ALLOWED_ROOTS": str(state)}
    with running_host(PROJECT_DIR, state / "state", env=env) as host:
        start = host.url + "/runtime/webhooks/durabletask/orchestrators/E2_BackupSiteContent/"

        def create(n):
            answer = http_request(
                "POST",
                f"{start}backup-crowd{n:05d}",
                b'"not absolute"',
                {"Content-Type": "application/json"},
            )
            assert answer.status == 202, answer.body

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(MANY)))
        yield host


# Module scope: Playwright's sync API keeps an event loop marked as running in this thread,
# which would make asyncio.run() fail in every test after it; it ends with the module.
@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    executable = browser.require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context, profile = browser.launch(playwright, executable)
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(chromium, request: pytest.FixtureRequest):
    """A fresh tab; dialogs (the terminate confirmation) are accepted."""
    tab = chromium.new_page()
    tab.on("dialog", lambda dialog: dialog.accept())
    tab.set_default_timeout(20_000)
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        browser.ARTIFACTS.mkdir(parents=True, exist_ok=True)
        target = browser.ARTIFACTS / f"{request.node.name}.png"
        try:
            tab.screenshot(path=str(target), full_page=True)
            print(f"screenshot of the page: {target}")
        except Exception as exc:  # the page may be what broke
            print(f"no screenshot: {exc}")
    tab.close()
