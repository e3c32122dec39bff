"""Task hub upkeep: retention purges old finished instances only; purged space goes back."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from devhost.contracts import RuntimeStatus
from devhost.core import history
from devhost.hub.store import Store
from devhost.hub.upkeep import apply_retention, describe_space
from tests.unit.devhost.hub.test_store import T0, finish

BIG = '"' + "x" * 200_000 + '"'


def _start(store: Store, instance_id: str, payload: str = '"x"') -> None:
    started = history.execution_started(
        T0, instance_id=instance_id, execution_id=instance_id, name="Orch", input=payload
    )
    store.create_instance(
        instance_id=instance_id,
        name="Orch",
        execution_id=instance_id,
        input=payload,
        started_event=started,
        now=T0,
    )


def test_retention_purges_finished_instances_older_than_the_limit(tmp_path: Path) -> None:
    store = Store.open(tmp_path, "Hub")
    try:
        for name in ("done", "failed", "terminated", "running"):
            _start(store, name)
        finish(store, "done", RuntimeStatus.COMPLETED)
        finish(store, "failed", RuntimeStatus.FAILED)
        finish(store, "terminated", RuntimeStatus.TERMINATED)
        assert apply_retention(store, 30, now=T0 + timedelta(days=29)) == 0
        assert apply_retention(store, 0, now=T0 + timedelta(days=365)) == 0  # 0: keep all
        assert apply_retention(store, 30, now=T0 + timedelta(days=31)) == 3
        assert store.get_instance("running") is not None
        assert store.get_instance("done") is None
    finally:
        store.close()


def test_purged_space_goes_back_to_the_file_system(tmp_path: Path) -> None:
    store = Store.open(tmp_path, "Hub")
    try:
        for n in range(60):
            _start(store, f"i{n}", BIG)
            finish(store, f"i{n}", RuntimeStatus.COMPLETED)
        full = store.space().file_bytes
        assert "60 instances" in describe_space(store)
        for n in range(60):
            assert store.purge(f"i{n}") == 1
        space = store.space()
        assert space.free_bytes == 0 and space.file_bytes < full / 5, (full, space)
    finally:
        store.close()


def test_a_file_made_without_incremental_vacuum_is_rewritten_once(tmp_path: Path) -> None:
    path = tmp_path / "Hub.sqlite"
    with sqlite3.connect(path) as old:  # as a host before incremental vacuum left it
        old.execute("PRAGMA auto_vacuum=NONE")
        old.execute("CREATE TABLE filler (x)")
    store = Store.open(tmp_path, "Hub")
    try:
        for n in range(40):
            _start(store, f"i{n}", BIG)
            finish(store, f"i{n}", RuntimeStatus.COMPLETED)
        full = store.space().file_bytes
        assert apply_retention(store, 1, now=T0 + timedelta(days=2)) == 40
        assert store.space().file_bytes < full / 5
    finally:
        store.close()
