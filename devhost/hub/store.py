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
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from devhost.contracts import (
    TERMINAL_STATUSES,
    ActivityWork,
    HostError,
    InstanceExists,
    InstanceInfo,
    InstanceQuery,
    RuntimeStatus,
)

__all__ = [
    "ActivityResult",
    "ChildStart",
    "EpisodeWrite",
    "HubLocked",
    "InstanceRecord",
    "Message",
    "NewExecution",
    "Outgoing",
    "Store",
    "StoreError",
    "TimerWrite",
    "WorkItem",
]

log = logging.getLogger(__name__)

_TERMINAL_NAMES = tuple(sorted(status.value for status in TERMINAL_STATUSES))


class StoreError(HostError):
    """The task hub's state file cannot be used."""


class HubLocked(StoreError):
    """Another host process holds the task hub."""


# --------------------------------------------------------------------------------------
# records
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstanceRecord:
    """One row of ``instances``."""

    instance_id: str
    name: str
    execution_id: str
    runtime_status: RuntimeStatus
    input: str | None
    output: str | None
    custom_status: str | None
    created_time: datetime
    last_updated_time: datetime
    parent_instance_id: str | None = None
    parent_execution_id: str | None = None
    parent_task_id: int | None = None
    parent_name: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.runtime_status in TERMINAL_STATUSES

    def info(self) -> InstanceInfo:
        return InstanceInfo(
            instance_id=self.instance_id,
            name=self.name,
            runtime_status=self.runtime_status,
            input=self.input,
            output=self.output,
            custom_status=self.custom_status,
            created_time=self.created_time,
            last_updated_time=self.last_updated_time,
            execution_id=self.execution_id,
            parent_instance_id=self.parent_instance_id,
        )


@dataclass(frozen=True)
class Message:
    """One inbox row. ``execution_id`` None means "whatever execution is current"."""

    id: int
    instance_id: str
    execution_id: str | None
    visible_at: datetime
    event: dict


@dataclass(frozen=True)
class WorkItem:
    """An activity to run; (instance_id, execution_id, task_id) is its identity."""

    instance_id: str
    execution_id: str
    task_id: int
    name: str
    input: str | None


@dataclass(frozen=True)
class ActivityResult:
    """A finished activity: ``event`` is its TaskCompleted / TaskFailed history event."""

    instance_id: str
    execution_id: str
    task_id: int
    event: dict


@dataclass(frozen=True)
class TimerWrite:
    fire_at: datetime
    event: dict  # the TimerFired event to deliver at fire_at


@dataclass(frozen=True)
class ChildStart:
    """A sub-orchestration to create in the parent's episode transaction."""

    instance_id: str
    name: str
    execution_id: str
    input: str | None
    started_event: dict
    parent_task_id: int
    # Delivered to the parent instead when a non-terminal instance already has that id.
    conflict_event: dict


@dataclass(frozen=True)
class Outgoing:
    """A message for another instance (a child's completion for its parent)."""

    instance_id: str
    execution_id: str | None
    event: dict


@dataclass(frozen=True)
class NewExecution:
    """Continue-as-new: the generation that replaces the current one."""

    execution_id: str
    input: str | None
    started_event: dict


@dataclass(frozen=True)
class EpisodeWrite:
    """Everything one episode changes, written in one transaction."""

    instance_id: str
    execution_id: str  # the execution the episode ran; the write is dropped if it changed
    now: datetime
    consumed: Sequence[int]  # inbox row ids
    events: Sequence[dict]  # appended to history, in order
    status: RuntimeStatus
    output: str | None = None
    custom_status: str | None = None
    activities: Sequence[ActivityWork] = ()
    timers: Sequence[TimerWrite] = ()
    children: Sequence[ChildStart] = ()
    outgoing: Sequence[Outgoing] = ()
    new_execution: NewExecution | None = None


@dataclass
class EpisodeWritten:
    """What a committed episode did that the dispatcher must react to."""

    children_started: list[str] = field(default_factory=list)
    children_rejected: list[str] = field(default_factory=list)
    notified: list[str] = field(default_factory=list)  # instances that got a message


# --------------------------------------------------------------------------------------
# SQL, by name
# --------------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS instances (
    instance_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    runtime_status TEXT NOT NULL,
    input TEXT,
    output TEXT,
    custom_status TEXT,
    created_us INTEGER NOT NULL,
    updated_us INTEGER NOT NULL,
    parent_instance_id TEXT,
    parent_execution_id TEXT,
    parent_task_id INTEGER,
    parent_name TEXT
);
CREATE INDEX IF NOT EXISTS instances_by_created ON instances (created_us, instance_id);
CREATE TABLE IF NOT EXISTS history (
    instance_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (instance_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY,
    instance_id TEXT NOT NULL,
    execution_id TEXT,
    visible_us INTEGER NOT NULL,
    event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_by_instance ON inbox (instance_id, visible_us, id);
CREATE INDEX IF NOT EXISTS inbox_by_visible ON inbox (visible_us);
CREATE TABLE IF NOT EXISTS work_items (
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    input TEXT,
    PRIMARY KEY (instance_id, execution_id, task_id)
) WITHOUT ROWID;
"""

_INSTANCE_COLUMNS = (
    "instance_id, name, execution_id, runtime_status, input, output, custom_status, "
    "created_us, updated_us, parent_instance_id, parent_execution_id, parent_task_id, parent_name"
)

SQL = {
    "get_instance": f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE instance_id = ?",
    "insert_instance": f"INSERT INTO instances ({_INSTANCE_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?)",
    "update_instance": "UPDATE instances SET runtime_status = ?, output = ?, custom_status = ?, "
    "updated_us = ? WHERE instance_id = ? AND execution_id = ?",
    "update_status": "UPDATE instances SET runtime_status = ?, updated_us = ? "
    "WHERE instance_id = ? AND execution_id = ?",
    "new_execution": "UPDATE instances SET execution_id = ?, input = ?, runtime_status = ?, "
    "output = NULL, custom_status = ?, updated_us = ? WHERE instance_id = ? AND execution_id = ?",
    "delete_instance": "DELETE FROM instances WHERE instance_id = ?",
    "history": "SELECT event FROM history WHERE instance_id = ? ORDER BY seq",
    "history_next_seq": "SELECT COALESCE(MAX(seq) + 1, 0) FROM history WHERE instance_id = ?",
    "append_history": "INSERT INTO history (instance_id, seq, event) VALUES (?, ?, ?)",
    "delete_history": "DELETE FROM history WHERE instance_id = ?",
    "visible_messages": "SELECT id, instance_id, execution_id, visible_us, event FROM inbox "
    "WHERE instance_id = ? AND visible_us <= ? ORDER BY visible_us, id",
    "insert_message": "INSERT INTO inbox (instance_id, execution_id, visible_us, event) "
    "VALUES (?, ?, ?, ?)",
    "delete_message": "DELETE FROM inbox WHERE id = ?",
    "delete_messages_of_instance": "DELETE FROM inbox WHERE instance_id = ?",
    "delete_messages_of_execution": "DELETE FROM inbox WHERE instance_id = ? AND execution_id = ?",
    "pending_instances": "SELECT DISTINCT instance_id FROM inbox WHERE visible_us <= ?",
    "future_timers": "SELECT visible_us, instance_id FROM inbox WHERE visible_us > ? "
    "ORDER BY visible_us",
    "insert_work_item": "INSERT OR IGNORE INTO work_items "
    "(instance_id, execution_id, task_id, name, input) VALUES (?, ?, ?, ?, ?)",
    "delete_work_item": "DELETE FROM work_items "
    "WHERE instance_id = ? AND execution_id = ? AND task_id = ?",
    "delete_work_items_of_instance": "DELETE FROM work_items WHERE instance_id = ?",
    "delete_work_items_of_execution": "DELETE FROM work_items "
    "WHERE instance_id = ? AND execution_id = ?",
    # Any order is a valid recovery order; key order needs no sort.
    "all_work_items": "SELECT instance_id, execution_id, task_id, name, input FROM work_items",
    "count_work_items": "SELECT COUNT(*) FROM work_items",
}


# --------------------------------------------------------------------------------------
# conversions
# --------------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch: exact, and ordered like the times themselves."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return datetime.fromtimestamp(micros // 1_000_000, UTC).replace(microsecond=micros % 1_000_000)


_dumps = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":")).encode
_loads = json.loads


def _record(row: sqlite3.Row | tuple) -> InstanceRecord:
    return InstanceRecord(
        instance_id=row[0],
        name=row[1],
        execution_id=row[2],
        runtime_status=RuntimeStatus(row[3]),
        input=row[4],
        output=row[5],
        custom_status=row[6],
        created_time=from_micros(row[7]),
        last_updated_time=from_micros(row[8]),
        parent_instance_id=row[9],
        parent_execution_id=row[10],
        parent_task_id=row[11],
        parent_name=row[12],
    )


def encode_token(created_us: int, instance_id: str) -> str:
    raw = _dumps([created_us, instance_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[int, str]:
    """Where the previous page ended; a token this store did not write is a ValueError."""
    try:
        padded = token + "=" * (-len(token) % 4)
        created_us, instance_id = _loads(base64.urlsafe_b64decode(padded.encode()))
        return int(created_us), str(instance_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError(f"invalid continuation token {token!r}") from exc


def _query_filter(query: InstanceQuery, statuses: Iterable[str] | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.created_from is not None:
        clauses.append("created_us >= ?")
        params.append(to_micros(query.created_from))
    if query.created_to is not None:
        clauses.append("created_us <= ?")
        params.append(to_micros(query.created_to))
    if statuses is not None:
        names = sorted(set(statuses))
        clauses.append(f"runtime_status IN ({', '.join('?' * len(names))})")
        params.extend(names)
    if query.instance_id_prefix:
        clauses.append("substr(instance_id, 1, ?) = ?")
        params.extend([len(query.instance_id_prefix), query.instance_id_prefix])
    where = " AND ".join(clauses) if clauses else "1"
    return where, params


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

    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        row = self._db.execute(SQL["get_instance"], (instance_id,)).fetchone()
        return _record(row) if row is not None else None

    def get_history(self, instance_id: str) -> list[dict]:
        rows = self._db.execute(SQL["history"], (instance_id,)).fetchall()
        return [_loads(row[0]) for row in rows]

    def visible_messages(self, instance_id: str, now: datetime) -> list[Message]:
        rows = self._db.execute(SQL["visible_messages"], (instance_id, to_micros(now))).fetchall()
        return [
            Message(row[0], row[1], row[2], from_micros(row[3]), _loads(row[4])) for row in rows
        ]

    def pending_instances(self, now: datetime) -> list[str]:
        """Instances with at least one visible message."""
        rows = self._db.execute(SQL["pending_instances"], (to_micros(now),)).fetchall()
        return [row[0] for row in rows]

    def future_timers(self, now: datetime) -> list[tuple[datetime, str]]:
        """(visible time, instance id) of every message that is not visible yet."""
        rows = self._db.execute(SQL["future_timers"], (to_micros(now),)).fetchall()
        return [(from_micros(row[0]), row[1]) for row in rows]

    def work_items(self) -> list[WorkItem]:
        rows = self._db.execute(SQL["all_work_items"]).fetchall()
        return [WorkItem(*row) for row in rows]

    def count_work_items(self) -> int:
        return self._db.execute(SQL["count_work_items"]).fetchone()[0]

    def query_instances(self, query: InstanceQuery) -> tuple[list[InstanceRecord], str | None]:
        """One page of instances ordered by creation time, and the token of the next page."""
        statuses = [status.value for status in query.statuses] if query.statuses else None
        where, params = _query_filter(query, statuses)
        if query.continuation_token:
            created_us, instance_id = decode_token(query.continuation_token)
            where += " AND (created_us, instance_id) > (?, ?)"
            params.extend([created_us, instance_id])
        top = query.top if query.top > 0 else 100
        sql = (
            f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE {where} "
            "ORDER BY created_us, instance_id LIMIT ?"
        )
        rows = self._db.execute(sql, [*params, top + 1]).fetchall()
        token = None
        if len(rows) > top:
            rows = rows[:top]
            token = encode_token(rows[-1][7], rows[-1][0])
        return [_record(row) for row in rows], token

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
        parent: tuple[str, str, int, str] | None = None,
    ) -> InstanceRecord:
        """A Pending instance with its ExecutionStarted in the inbox, replacing a terminal one.

        ``parent`` is (instance id, execution id, task id, name) for a sub-orchestration.
        Raises InstanceExists if a non-terminal instance has that id.
        """
        with self._transaction() as db:
            if not self._create_instance(
                db, instance_id, name, execution_id, input, started_event, now, parent
            ):
                raise InstanceExists(
                    f"An orchestration with instance id '{instance_id}' already exists and is "
                    "not in a terminal state."
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
                (instance_id, execution_id, to_micros(visible), _dumps(event)),
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
        return 1

    def purge_many(self, query: InstanceQuery) -> int:
        """Delete every terminal instance the query matches (its top and token are ignored)."""
        wanted = (
            [s.value for s in query.statuses if s in TERMINAL_STATUSES]
            if query.statuses
            else list(_TERMINAL_NAMES)
        )
        if not wanted:
            return 0
        where, params = _query_filter(query, wanted)
        with self._transaction() as db:
            ids = [
                row[0]
                for row in db.execute(f"SELECT instance_id FROM instances WHERE {where}", params)
            ]
            for instance_id in ids:
                _delete_instance(db, instance_id)
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
                    parent = (iid, eid, child.parent_task_id, row[1])
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
                            SQL["insert_message"], (iid, eid, now_us, _dumps(child.conflict_event))
                        )
                        done.children_rejected.append(child.instance_id)
            for message in write.outgoing:
                db.execute(
                    SQL["insert_message"],
                    (message.instance_id, message.execution_id, now_us, _dumps(message.event)),
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
                        (result.instance_id, result.execution_id, now_us, _dumps(result.event))
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
        parent: tuple[str, str, int, str] | None,
    ) -> bool:
        existing = db.execute(SQL["get_instance"], (instance_id,)).fetchone()
        if existing is not None:
            if RuntimeStatus(existing[3]) not in TERMINAL_STATUSES:
                return False
            _delete_instance(db, instance_id)
        now_us = to_micros(now)
        parent_id, parent_execution, parent_task, parent_name = parent or (None, None, None, None)
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
                parent_id,
                parent_execution,
                parent_task,
                parent_name,
            ),
        )
        db.execute(
            SQL["insert_message"], (instance_id, execution_id, now_us, _dumps(started_event))
        )
        return True


def _append_history(db: sqlite3.Connection, instance_id: str, events: Sequence[dict]) -> None:
    if not events:
        return
    start = db.execute(SQL["history_next_seq"], (instance_id,)).fetchone()[0]
    db.executemany(
        SQL["append_history"],
        [(instance_id, start + offset, _dumps(event)) for offset, event in enumerate(events)],
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
            [(iid, eid, to_micros(timer.fire_at), _dumps(timer.event)) for timer in write.timers],
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
        (new.execution_id, new.input, write.status.value, write.custom_status, now_us, iid, old),
    )
    db.execute(SQL["insert_message"], (iid, new.execution_id, now_us, _dumps(new.started_event)))


def _delete_instance(db: sqlite3.Connection, instance_id: str) -> None:
    db.execute(SQL["delete_history"], (instance_id,))
    db.execute(SQL["delete_messages_of_instance"], (instance_id,))
    db.execute(SQL["delete_work_items_of_instance"], (instance_id,))
    db.execute(SQL["delete_instance"], (instance_id,))


def _connect(path: Path) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # WAL + NORMAL: a commit survives the process being killed (it is in the WAL file);
        # only an OS crash could lose the last transactions, which is fine for a dev host.
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        db.execute("PRAGMA cache_size=-65536")
        db.executescript(_SCHEMA)
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
