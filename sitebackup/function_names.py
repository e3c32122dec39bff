"""The app's function names, as the function folders spell them."""

from __future__ import annotations

BACKUP_ORCHESTRATOR = "E2_BackupSiteContent"
PARTITION_ORCHESTRATOR = "E2_BackupPartition"
LIST_ACTIVITY = "E2_GetFileList"
COPY_ACTIVITY = "E2_CopyFileToBlob"
READ_PAGE_ACTIVITY = "E2_ReadFilePage"
WRITE_STORED_ACTIVITY = "E2_WriteStoredPage"
WRITE_SNAPSHOT_ACTIVITY = "E2_WriteSnapshot"
CONFIRM_ACTIVITY = "E2_ConfirmBackup"

PRUNE_ORCHESTRATOR = "E2_PruneSnapshots"
PLAN_PRUNE_ACTIVITY = "E2_PlanPrune"
DROP_SNAPSHOTS_ACTIVITY = "E2_DropSnapshots"
SWEEP_CONTENT_ACTIVITY = "E2_SweepContent"
SWEEP_RUNS_ACTIVITY = "E2_SweepRuns"

RESTORE_ORCHESTRATOR = "E2_RestoreSnapshot"
RESTORE_PARTITION_ORCHESTRATOR = "E2_RestorePartition"
PREPARE_RESTORE_ACTIVITY = "E2_PrepareRestore"
READ_RESTORE_PAGE_ACTIVITY = "E2_ReadRestorePage"
RESTORE_FILE_ACTIVITY = "E2_RestoreFile"
FINISH_RESTORE_ACTIVITY = "E2_FinishRestore"

# Orchestrators the HTTP starter may start. The partition orchestrator only makes sense as a
# child of a backup, so it is deliberately not startable from outside.
STARTABLE_ORCHESTRATORS = (BACKUP_ORCHESTRATOR, RESTORE_ORCHESTRATOR, PRUNE_ORCHESTRATOR)
