"""The task hub's durable state: one SQLite file (WAL) per hub, every state change one transaction.

Tables:
- ``instances``: one row per orchestration instance (status, input, output, parent link...).
- ``history``: the current execution's events, in order, as the extension's JSON.
- ``inbox``: messages waiting for an instance's next episode; a timer is a message that only
  becomes visible at its fire time.
- ``work_items``: activities scheduled and not yet completed. A completion is accepted only if
  its work item still exists, which fences off stale and duplicate completions.

The store is synchronous and meant to be used from one thread (the dispatcher's event loop):
its transactions are short, and batching keeps their number low.

Longer than most modules (about 500 lines): every transaction lives here, so what each state
change writes together is visible in one place (SQL text is in ``sql``, records in ``records``).
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import logging
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from devhost.contracts import (
    TERMINAL_STATUSES,
    HostError,
    InstanceExists,
    InstanceQuery,
    RuntimeStatus,
)
from devhost.functions.timer_status import ScheduleStatus
from devhost.hub.records import (
    ActivityResult,
    DueTimer,
    EpisodeWrite,
    EpisodeWritten,
    InstanceRecord,
    Message,
    ParentLink,
    RecordPage,
    WorkItem,
)
from devhost.hub.sql import (
    INSTANCE_COLUMNS,
    SCHEMA,
    SQL,
    decode_token,
    dumps,
    encode_token,
    from_micros,
    instance_record,
    loads,
    query_filter,
    to_micros,
)

__all__ = ["HubLocked", "Store", "StoreError"]

log = logging.getLogger(__name__)

_TERMINAL_NAMES = tuple(sorted(status.value for status in TERMINAL_STATUSES))


class StoreError(HostError):
    """The task hub's state file cannot be used."""


class HubLocked(StoreError):
    """Another host process holds the task hub."""


# --------------------------------------------------------------------------------------
# the store
# --------------------------------------------------------------------------------------


class Store:
    """The task hub's SQLite file. Open with ``Store.open``; close with ``close``."""

    def __init__(self, path: Path, hub_name: str, connection: sqlite3.Connection, lock: IO[str]):
        self.path = path
        self.hub_name = hub_name
        self._db = connection
        self._lock = lock

    # ---- life cycle ------------------------------------------------------------------

    @classmethod
    def open(cls, state_dir: Path | str, hub_name: str) -> Store:
        """Open (creating if needed) ``<state_dir>/<hub_name>.sqlite`` and lock it.

        Raises HubLocked if another process already serves this hub from the same folder.
        """
        folder = Path(state_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{hub_name}.sqlite"
        lock = _acquire_lock(path.with_name(path.name + ".lock"), hub_name)
        try:
            connection = _connect(path)
        except BaseException:
            lock.close()
            raise
        return cls(path, hub_name, connection, lock)

    @classmethod
    def in_memory(cls, hub_name: str) -> Store:
        """A store with the same schema and SQL that lives in this process only (tests)."""
        path = Path(":memory:")
        return cls(path, hub_name, _connect(path), io.StringIO())

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        with contextlib.suppress(OSError):
            self._lock.close()  # closing the file releases the flock

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # ---- reads -----------------------------------------------------------------------

    def get_schedule_status(self, function_name: str) -> ScheduleStatus | None:
        """A timer function's stored schedule status (the timer extension's monitor)."""
        row = self._db.execute(SQL["get_schedule_status"], (function_name,)).fetchone()
        return None if row is None else ScheduleStatus.from_json(loads(row[0]))

    def put_schedule_status(self, function_name: str, status: ScheduleStatus) -> None:
        with self._transaction() as db:
            db.execute(SQL["put_schedule_status"], (function_name, dumps(status.to_json())))

    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        row = self._db.execute(SQL["get_instance"], (instance_id,)).fetchone()
        return instance_record(row) if row is not None else None

    def get_history(self, instance_id: str) -> list[dict]:
        rows = self._db.execute(SQL["history"], (instance_id,)).fetchall()
        return [loads(row[0]) for row in rows]

    def visible_messages(self, instance_id: str, now: datetime) -> list[Message]:
        rows = self._db.execute(SQL["visible_messages"], (instance_id, to_micros(now))).fetchall()
        return [Message(row[0], row[1], row[2], from_micros(row[3]), loads(row[4])) for row in rows]

    def pending_instances(self, now: datetime) -> list[str]:
        """Instances with at least one visible message."""
        rows = self._db.execute(SQL["pending_instances"], (to_micros(now),)).fetchall()
        return [row[0] for row in rows]

    def future_timers(self, now: datetime) -> list[DueTimer]:
        """Every message that is not visible yet: when it will be, and for which instance."""
        rows = self._db.execute(SQL["future_timers"], (to_micros(now),)).fetchall()
        return [DueTimer(from_micros(row[0]), row[1]) for row in rows]

    def work_items(self) -> list[WorkItem]:
        rows = self._db.execute(SQL["all_work_items"]).fetchall()
        return [WorkItem(*row) for row in rows]

    def count_work_items(self) -> int:
        return self._db.execute(SQL["count_work_items"]).fetchone()[0]

    def query_instances(self, query: InstanceQuery) -> RecordPage:
        """One page of instances ordered by creation time, and the token of the next page."""
        statuses = [status.value for status in query.statuses] if query.statuses else None
        where, params = query_filter(query, statuses)
        if query.continuation_token:
            created_us, instance_id = decode_token(query.continuation_token)
            where += " AND (created_us, instance_id) > (?, ?)"
            params.extend([created_us, instance_id])
        top = query.top if query.top > 0 else 100
        sql = (
            f"SELECT {INSTANCE_COLUMNS} FROM instances WHERE {where} "
            "ORDER BY created_us, instance_id LIMIT ?"
        )
        rows = self._db.execute(sql, [*params, top + 1]).fetchall()
        token = None
        if len(rows) > top:
            rows = rows[:top]
            token = encode_token(rows[-1][7], rows[-1][0])
        return RecordPage([instance_record(row) for row in rows], token)

    # ---- writes: instances and messages ----------------------------------------------

    def create_instance(
        self,
        *,
        instance_id: str,
        name: str,
        execution_id: str,
        input: str | None,
        started_event: dict,
        now: datetime,
        parent: ParentLink | None = None,
    ) -> InstanceRecord:
        """A Pending instance with its ExecutionStarted in the inbox, replacing a terminal one.

        ``parent`` links a sub-orchestration to the task of its parent that started it.
        Raises InstanceExists if a non-terminal instance has that id.
        """
        with self._transaction() as db:
            if not self._create_instance(
                db, instance_id, name, execution_id, input, started_event, now, parent
            ):
                existing = db.execute(SQL["get_instance"], (instance_id,)).fetchone()
                # DTFX AzureStorageOrchestrationService.CreateTaskOrchestrationAsync (dedupe
                # statuses Running, ContinuedAsNew, Pending, Suspended: EXT OverridableStates)
                raise InstanceExists(
                    f"An Orchestration instance with the status {existing[3]} already exists."
                )
        record = self.get_instance(instance_id)
        assert record is not None
        return record

    def add_message(
        self,
        instance_id: str,
        event: dict,
        *,
        now: datetime,
        execution_id: str | None = None,
        visible_at: datetime | None = None,
    ) -> int:
        """Put one message in an instance's inbox; returns its row id."""
        visible = visible_at if visible_at is not None else now
        with self._transaction() as db:
            cursor = db.execute(
                SQL["insert_message"],
                (instance_id, execution_id, to_micros(visible), dumps(event)),
            )
        return int(cursor.lastrowid or 0)

    def discard_messages(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        with self._transaction() as db:
            db.executemany(SQL["delete_message"], [(message_id,) for message_id in ids])

    def purge(self, instance_id: str) -> int:
        """Delete a terminal instance with its history; 0 if unknown or not terminal."""
        with self._transaction() as db:
            row = db.execute(SQL["get_instance"], (instance_id,)).fetchone()
            if row is None or RuntimeStatus(row[3]) not in TERMINAL_STATUSES:
                return 0
            _delete_instance(db, instance_id)
        self.reclaim_space()
        return 1

    def purge_finished_before(self, cutoff: datetime) -> int:
        """Delete every terminal instance last updated before ``cutoff`` (hub retention)."""
        placeholders = ", ".join("?" for _ in _TERMINAL_NAMES)
        with self._transaction() as db:
            ids = [
                row[0]
                for row in db.execute(
                    f"SELECT instance_id FROM instances WHERE runtime_status IN ({placeholders}) "
                    "AND updated_us < ?",
                    [*_TERMINAL_NAMES, to_micros(cutoff)],
                )
            ]
            for instance_id in ids:
                _delete_instance(db, instance_id)
        if ids:
            self.reclaim_space()
        return len(ids)

    def space(self) -> HubSpace:
        """How big the state file is, and how much of it deleted rows left free."""
        db = self._db
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        instances = db.execute("SELECT COUNT(*) FROM instances").fetchone()[0]
        return HubSpace(page_size * pages, page_size * free, instances)

    def reclaim_space(self) -> int:
        """Give free pages back to the file system; the bytes freed.

        A file made since auto_vacuum=INCREMENTAL frees them cheaply; an older file is
        rewritten once (VACUUM) when at least a quarter of it is free, which also switches
        it to incremental vacuum for next time.
        """
        before = self.space()
        if before.free_bytes == 0:
            return 0
        db = self._db
        if db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2:
            # sqlite3_exec runs the pragma to its end; execute() would free one page per step.
            db.executescript("PRAGMA incremental_vacuum;")
        elif before.free_bytes * 4 >= before.file_bytes:
            db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            db.execute("VACUUM")
        else:
            return 0
        # The WAL holds the moved pages until a checkpoint; truncate it too.
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return max(0, before.file_bytes - self.space().file_bytes)

    def purge_many(self, query: InstanceQuery) -> int:
        """Delete every terminal instance the query matches (its top and token are ignored)."""
        wanted = (
            [s.value for s in query.statuses if s in TERMINAL_STATUSES]
            if query.statuses
            else list(_TERMINAL_NAMES)
        )
        if not wanted:
            return 0
        where, params = query_filter(query, wanted)
        with self._transaction() as db:
            ids = [
                row[0]
                for row in db.execute(f"SELECT instance_id FROM instances WHERE {where}", params)
            ]
            for instance_id in ids:
                _delete_instance(db, instance_id)
        if ids:
            self.reclaim_space()
        return len(ids)

    # ---- writes: episodes and activities ---------------------------------------------

    def commit_episode(self, write: EpisodeWrite) -> EpisodeWritten | None:
        """Write one episode; None (nothing written) if the instance changed execution meanwhile."""
        now_us = to_micros(write.now)
        done = EpisodeWritten()
        iid, eid = write.instance_id, write.execution_id
        with self._transaction() as db:
            row = db.execute(SQL["get_instance"], (iid,)).fetchone()
            if row is None or row[2] != eid:
                return None
            db.executemany(SQL["delete_message"], [(mid,) for mid in write.consumed])
            if write.new_execution is not None:
                _start_new_execution(db, write, now_us)
            else:
                _append_history(db, iid, write.events)
                db.execute(
                    SQL["update_instance"],
                    (write.status.value, write.output, write.custom_status, now_us, iid, eid),
                )
            if write.status in TERMINAL_STATUSES:
                # Nothing of a finished execution runs any more: completions and timers that
                # are still out there find neither a work item nor an inbox to land in.
                db.execute(SQL["delete_work_items_of_instance"], (iid,))
                db.execute(SQL["delete_messages_of_instance"], (iid,))
            else:
                _insert_work(db, iid, eid, write)
                for child in write.children:
                    parent = ParentLink(iid, eid, child.parent_task_id, row[1])
                    if self._create_instance(
                        db,
                        child.instance_id,
                        child.name,
                        child.execution_id,
                        child.input,
                        child.started_event,
                        write.now,
                        parent,
                    ):
                        done.children_started.append(child.instance_id)
                    else:
                        db.execute(
                            SQL["insert_message"], (iid, eid, now_us, dumps(child.conflict_event))
                        )
                        done.children_rejected.append(child.instance_id)
            for message in write.outgoing:
                db.execute(
                    SQL["insert_message"],
                    (message.instance_id, message.execution_id, now_us, dumps(message.event)),
                )
                done.notified.append(message.instance_id)
        return done

    def complete_activities(
        self, results: Sequence[ActivityResult], now: datetime
    ) -> list[ActivityResult]:
        """Record activity outcomes in one transaction; returns those whose work item existed.

        A result whose work item is gone (instance finished, purged, restarted, continued as
        new, or the result is a duplicate) is dropped.
        """
        accepted: list[ActivityResult] = []
        if not results:
            return accepted
        now_us = to_micros(now)
        with self._transaction() as db:
            delete = SQL["delete_work_item"]
            rows = []
            for result in results:
                cursor = db.execute(
                    delete, (result.instance_id, result.execution_id, result.task_id)
                )
                if cursor.rowcount:
                    accepted.append(result)
                    rows.append(
                        (result.instance_id, result.execution_id, now_us, dumps(result.event))
                    )
            db.executemany(SQL["insert_message"], rows)
        return accepted

    # ---- helpers inside a transaction --------------------------------------------------

    @staticmethod
    def _create_instance(
        db: sqlite3.Connection,
        instance_id: str,
        name: str,
        execution_id: str,
        input: str | None,
        started_event: dict,
        now: datetime,
        parent: ParentLink | None,
    ) -> bool:
        existing = db.execute(SQL["get_instance"], (instance_id,)).fetchone()
        if existing is not None:
            if RuntimeStatus(existing[3]) not in TERMINAL_STATUSES:
                return False
            _delete_instance(db, instance_id)
        now_us = to_micros(now)
        db.execute(
            SQL["insert_instance"],
            (
                instance_id,
                name,
                execution_id,
                RuntimeStatus.PENDING.value,
                input,
                now_us,
                now_us,
                parent.instance_id if parent else None,
                parent.execution_id if parent else None,
                parent.task_id if parent else None,
                parent.name if parent else None,
            ),
        )
        db.execute(SQL["insert_message"], (instance_id, execution_id, now_us, dumps(started_event)))
        return True


def _append_history(db: sqlite3.Connection, instance_id: str, events: Sequence[dict]) -> None:
    if not events:
        return
    start = db.execute(SQL["history_next_seq"], (instance_id,)).fetchone()[0]
    db.executemany(
        SQL["append_history"],
        [(instance_id, start + offset, dumps(event)) for offset, event in enumerate(events)],
    )


def _insert_work(db: sqlite3.Connection, iid: str, eid: str, write: EpisodeWrite) -> None:
    if write.activities:
        db.executemany(
            SQL["insert_work_item"],
            [(iid, eid, work.task_id, work.name, work.input) for work in write.activities],
        )
    if write.timers:
        db.executemany(
            SQL["insert_message"],
            [(iid, eid, to_micros(timer.fire_at), dumps(timer.event)) for timer in write.timers],
        )


def _start_new_execution(db: sqlite3.Connection, write: EpisodeWrite, now_us: int) -> None:
    """Continue-as-new: the old generation's history, timers and work go; a new one starts."""
    new = write.new_execution
    assert new is not None
    iid, old = write.instance_id, write.execution_id
    db.execute(SQL["delete_history"], (iid,))
    db.execute(SQL["delete_messages_of_execution"], (iid, old))
    db.execute(SQL["delete_work_items_of_execution"], (iid, old))
    db.execute(
        SQL["new_execution"],
        (
            new.execution_id,
            new.input,
            write.status.value,
            write.custom_status,
            now_us,
            now_us,
            iid,
            old,
        ),
    )
    db.execute(SQL["insert_message"], (iid, new.execution_id, now_us, dumps(new.started_event)))


def _delete_instance(db: sqlite3.Connection, instance_id: str) -> None:
    db.execute(SQL["delete_history"], (instance_id,))
    db.execute(SQL["delete_messages_of_instance"], (instance_id,))
    db.execute(SQL["delete_work_items_of_instance"], (instance_id,))
    db.execute(SQL["delete_instance"], (instance_id,))


@dataclass(frozen=True)
class HubSpace:
    file_bytes: int
    free_bytes: int  # pages deleted rows left, reusable, not yet given back
    instances: int


def _connect(path: Path) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # Only takes effect on a new file (before any table): deleted rows' pages can then be
        # given back to the file system a few at a time instead of by rewriting the file.
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")
        # WAL + NORMAL: a commit survives the process being killed (it is in the WAL file);
        # only an OS crash could lose the last transactions, which is fine for a dev host.
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        db.execute("PRAGMA cache_size=-65536")
        db.executescript(SCHEMA)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open the task hub state file {path}: {exc}") from exc
    return db


def _acquire_lock(path: Path, hub_name: str) -> IO[str]:
    handle = open(path, "a+")  # noqa: SIM115 - held open for the store's lifetime
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise HubLocked(
            f"task hub '{hub_name}' is in use by another host process (pid {holder}); its state "
            f"file {path.with_suffix('')} can only be served by one host at a time. Stop that "
            "host, or use another state folder or hub name."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
