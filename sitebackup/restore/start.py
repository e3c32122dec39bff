"""The restore starter's checks that need storage: which snapshot the request means."""

from __future__ import annotations

from collections.abc import Mapping

from sitebackup import settings as cfg
from sitebackup import snapshot_store
from sitebackup.errors import RequestError, echo
from sitebackup.manifest import ManifestError
from sitebackup.restore import request
from sitebackup.restore.request import Choice, RestoreStart
from sitebackup.snapshot_store import SnapshotStore


def find_snapshot(env: Mapping[str, str] | None) -> request.Finder:
    """A ``find`` for ``request.parse`` that reads the destination's snapshot list."""

    def find(container: str, prefix: str, choice: Choice) -> str:
        store = SnapshotStore(snapshot_store.meta_container(env), container, prefix)
        try:
            if choice.as_of_ms is not None:
                ref = store.find(snapshot_store.LATEST, as_of_ms=choice.as_of_ms)
            else:
                ref = store.find(choice.snapshot_id or snapshot_store.LATEST)
        except ManifestError as exc:
            raise RequestError(str(exc)) from None
        if ref is None:
            where = f"container {echo(container)}, prefix {echo(prefix)}"
            raise RequestError(
                f"there is no {choice.describe()} of the backup in {where}; list the "
                "snapshots with 'site-backup snapshots DIR'"
            )
        return ref.run_id

    return find


def parse(
    body: bytes, settings: cfg.Settings, env: Mapping[str, str] | None = None
) -> RestoreStart:
    """Every check of a restore request, the snapshot lookup included (RequestError: 400)."""
    return request.parse(body, settings, find_snapshot(env))
