"""The app's function names, as the function folders spell them."""

from __future__ import annotations

BACKUP_ORCHESTRATOR = "E2_BackupSiteContent"
PARTITION_ORCHESTRATOR = "E2_BackupPartition"
LIST_ACTIVITY = "E2_GetFileList"
COPY_ACTIVITY = "E2_CopyFileToBlob"

# Orchestrators the HTTP starter may start. The partition orchestrator only makes sense as a
# child of a backup, so it is deliberately not startable from outside.
STARTABLE_ORCHESTRATORS = (BACKUP_ORCHESTRATOR,)
