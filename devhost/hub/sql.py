"""The store's SQL: the schema, every statement by name, and row <-> value conversions.

Times are stored as integer microseconds since the epoch (exact and ordered like the times);
continuation tokens encode where a page of an instance query ended.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from devhost.contracts import InstanceQuery, InvalidContinuationToken, RuntimeStatus
from devhost.hub.records import InstanceRecord

# --------------------------------------------------------------------------------------
# SQL, by name
# --------------------------------------------------------------------------------------

SCHEMA = """
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
CREATE TABLE IF NOT EXISTS schedule_status (
    function_name TEXT PRIMARY KEY,
    status TEXT NOT NULL
) WITHOUT ROWID;
"""

INSTANCE_COLUMNS = (
    "instance_id, name, execution_id, runtime_status, input, output, custom_status, "
    "created_us, updated_us, parent_instance_id, parent_execution_id, parent_task_id, parent_name"
)

SQL = {
    "get_instance": f"SELECT {INSTANCE_COLUMNS} FROM instances WHERE instance_id = ?",
    "insert_instance": f"INSERT INTO instances ({INSTANCE_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?)",
    "update_instance": "UPDATE instances SET runtime_status = ?, output = ?, custom_status = ?, "
    "updated_us = ? WHERE instance_id = ? AND execution_id = ?",
    "update_status": "UPDATE instances SET runtime_status = ?, updated_us = ? "
    "WHERE instance_id = ? AND execution_id = ?",
    # DTFX AzureTableTrackingStore.UpdateStateAsync: the new generation's ExecutionStarted
    # sets CreatedTime.
    "new_execution": "UPDATE instances SET execution_id = ?, input = ?, runtime_status = ?, "
    "output = NULL, custom_status = ?, created_us = ?, updated_us = ? "
    "WHERE instance_id = ? AND execution_id = ?",
    "delete_instance": "DELETE FROM instances WHERE instance_id = ?",
    "get_schedule_status": "SELECT status FROM schedule_status WHERE function_name = ?",
    "put_schedule_status": "INSERT INTO schedule_status (function_name, status) VALUES (?, ?) "
    "ON CONFLICT (function_name) DO UPDATE SET status = excluded.status",
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


dumps = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":")).encode
loads = json.loads


def instance_record(row: sqlite3.Row | tuple) -> InstanceRecord:
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
    raw = dumps([created_us, instance_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[int, str]:
    """Where the previous page ended; a token this store did not write is a ValueError."""
    try:
        padded = token + "=" * (-len(token) % 4)
        created_us, instance_id = loads(base64.urlsafe_b64decode(padded.encode()))
        return int(created_us), str(instance_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidContinuationToken(f"invalid continuation token {token[:100]!r}") from exc


def query_filter(query: InstanceQuery, statuses: Iterable[str] | None) -> tuple[str, list[Any]]:
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
