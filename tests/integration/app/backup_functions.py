"""The backup app's orchestrators and activities by name, for tests that run them in-process.

``functions`` is the real hub in memory (``devhost.testing``); ``driver`` is the stepping
episode driver, for tests that need to stop between episodes or pin the orchestration clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import E2_BackupPartition
import E2_BackupSiteContent
import E2_ConfirmBackup
import E2_CopyFileToBlob
import E2_GetFileList
import E2_ReadFilePage
import E2_WriteSnapshot
import E2_WriteStoredPage
from devhost.testing import StandInApp
from tests.support.driver import Driver

ORCHESTRATORS: dict[str, Callable[..., Any]] = {
    "E2_BackupSiteContent": E2_BackupSiteContent.main,
    "E2_BackupPartition": E2_BackupPartition.main,
}
ACTIVITIES: dict[str, Callable[..., Any]] = {
    "E2_GetFileList": E2_GetFileList.main,
    "E2_CopyFileToBlob": E2_CopyFileToBlob.main,
    "E2_ReadFilePage": E2_ReadFilePage.main,
    "E2_WriteStoredPage": E2_WriteStoredPage.main,
    "E2_WriteSnapshot": E2_WriteSnapshot.main,
    "E2_ConfirmBackup": E2_ConfirmBackup.main,
}


def functions(**replaced: Callable[..., Any]) -> StandInApp:
    """The app for ``devhost.testing.memory_hub``, with some activities replaced."""
    return StandInApp(ORCHESTRATORS, {**ACTIVITIES, **replaced})


def driver(copy: Callable[..., Any] = E2_CopyFileToBlob.main, **options: Any) -> Driver:
    return Driver(ORCHESTRATORS, {**ACTIVITIES, "E2_CopyFileToBlob": copy}, **options)
