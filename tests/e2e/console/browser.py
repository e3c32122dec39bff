"""A real headless Chromium (Debian's ``chromium``) driven by Playwright for Python.

Playwright's own browser download is never used: it launches the system's Chromium by its
path. When Chromium or Playwright is missing, the test fails with the one command that
installs it; it is never skipped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CONSOLE_TEST_CHROMIUM") or "/usr/bin/chromium"
# Flags that work in containers without a display, GPU or network.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "console"


def require_browser() -> str:
    """The Chromium executable, or a test failure naming the command that installs it."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail(
            "Playwright for Python is missing: run ./dev test (it installs the dev extras) "
            "or .venv/bin/pip install -e '.[dev]'",
            pytrace=False,
        )
    path = CHROMIUM if os.path.isabs(CHROMIUM) else shutil.which(CHROMIUM)
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            f"Chromium is not installed ({CHROMIUM}): run 'apt-get install -y chromium' as "
            "root (./dev test does it when it runs as root)",
            pytrace=False,
        )
    return path


def launch(playwright, executable: str):
    profile = tempfile.mkdtemp(prefix="console-chromium-")
    context = playwright.chromium.launch_persistent_context(
        profile,
        executable_path=executable,
        headless=True,
        args=list(FLAGS),
        viewport={"width": 1200, "height": 900},
    )
    return context, profile
