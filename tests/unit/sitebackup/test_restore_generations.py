"""E2_RestoreSnapshot continues as new: hand-built histories through the real SDK.

A restore of 21 partitions, two per wave: a generation is 16 of them (``generation_size``),
then the next generation runs the last 5 and finishes. Each history is built here, so the
test sees exactly what the parent's history holds and what it carries to the next one.
"""

from __future__ import annotations

import json

import E2_RestoreSnapshot
from sitebackup import children
from sitebackup import function_names as fn
from sitebackup.restore.job import RestoreJob
from tests.unit.sitebackup.episodes import Episodes

INSTANCE = "restore-0123456789abcdef"
JOB = RestoreJob(
    container="backups",
    prefix="www",
    snapshot="run-1",
    target="/srv/restores/www",
    include=("/img/",),
    partition_size=50,
    partition_concurrency=2,
)
PARTS = 21
PER_PART = 50


def summary(count: int, size: int = 10) -> dict:
    return {
        "filesDone": count,
        "filesCopied": count,
        "filesSkipped": 0,
        "filesFailed": 0,
        "bytesDone": count * size,
        "bytesCopied": count * size,
        "bytesBackedUp": count * size,
        "failed": [],
    }


def restore(value: dict) -> Episodes:
    return Episodes(E2_RestoreSnapshot.main, fn.RESTORE_ORCHESTRATOR, value, instance_id=INSTANCE)


SUB_COMPLETED = 8  # the history event type of a sub-orchestration's completion


def waves(run: Episodes, first_id: int, indexes: list[int], inputs: list | None = None):
    """Drive one generation: each wave (two partitions) is created, then completes."""
    state = run.run()
    task_id = first_id
    for start in range(0, len(indexes), 2):
        wave = indexes[start : start + 2]
        subs = [a for a in state.atomic_actions() if a["actionType"] == 2][-len(wave) :]
        assert [json.loads(a["input"])["index"] for a in subs] == wave
        if inputs is not None:
            inputs.extend(json.loads(a["input"]) for a in subs)
        ids = list(range(task_id, task_id + len(wave)))
        run.close(*(run.sub_created(i, fn.RESTORE_PARTITION_ORCHESTRATOR) for i in ids))
        run.open(*(run.sub_completed(i, summary(PER_PART)) for i in ids))
        task_id += len(wave)
        state = run.run()
    return state, task_id


def test_a_restore_of_many_partitions_continues_as_new_with_the_same_run_and_plan() -> None:
    first = restore(JOB.to_input())
    state = first.run()
    (prepare,) = state.atomic_actions()
    assert prepare["functionName"] == fn.PREPARE_RESTORE_ACTIVITY
    run_token = json.loads(prepare["input"])["run"]
    first.close(first.scheduled(0, fn.PREPARE_RESTORE_ACTIVITY))
    prepared = {
        "error": None,
        "filesTotal": PARTS * PER_PART,
        "bytesTotal": PARTS * PER_PART * 10,
        "partitions": PARTS,
    }
    first.open(first.completed(0, prepared))
    inputs: list[dict] = []
    state, _ = waves(first, 1, list(range(16)), inputs)

    # Each partition is given its index into the plan and the run, not a slice of the tree.
    assert [set(i) for i in inputs] == [{"job", "run", "index"}] * 16
    assert {i["run"] for i in inputs} == {run_token}
    # The first generation ends by continuing as new, carrying the run.
    assert state.done and state.error is None
    (again,) = [a for a in state.actions if a["actionType"] == 4]  # ContinueAsNew
    carried = json.loads(again["input"])
    resume = carried.pop("resume")
    assert carried == JOB.to_input()
    assert resume["runId"] == run_token
    assert (resume["next"], resume["done"], resume["partitions"]) == (16, 16, PARTS)
    assert resume["totals"]["filesDone"] == 16 * PER_PART
    assert resume["filesTotal"] == PARTS * PER_PART
    assert state.custom_status["partitionsDone"] == 16
    completions = [e for e in first.history if e["EventType"] == SUB_COMPLETED]
    assert len(completions) == 16

    # The next generation: a new history, no prepare again, the same run's instance ids.
    second = restore(json.loads(again["input"]))
    state = second.run()
    assert (state.custom_status["partitionsDone"], state.custom_status["partitionsTotal"]) == (
        16,
        PARTS,
    )
    subs = [a for a in state.atomic_actions() if a["actionType"] == 2]
    assert [a["instanceId"] for a in subs] == [
        children.partition_id(INSTANCE, run_token, index) for index in (16, 17)
    ]
    assert all(json.loads(a["input"])["run"] == run_token for a in subs)
    assert not [a for a in state.atomic_actions() if a["actionType"] == 1]
    state, task_id = waves(second, 0, list(range(16, PARTS)))

    # The last generation ends with the finish (which removes the plan page), then the output.
    (finish,) = [a for a in state.atomic_actions() if a["actionType"] == 1]
    assert finish["functionName"] == fn.FINISH_RESTORE_ACTIVITY
    assert json.loads(finish["input"])["run"] == run_token
    second.close(second.scheduled(task_id, fn.FINISH_RESTORE_ACTIVITY))
    second.open(second.completed(task_id, {"removed": 0, "error": None}))
    state = second.run()
    assert state.done and state.error is None
    assert state.output == PARTS * PER_PART * 10
    status = state.custom_status
    assert status["phase"] == "done" and status["partitionsDone"] == PARTS
    assert status["filesDone"] == status["filesTotal"] == PARTS * PER_PART
    completions = [e for e in second.history if e["EventType"] == SUB_COMPLETED]
    assert len(completions) == PARTS - 16


def test_a_prepare_that_returns_a_list_or_a_bad_resume_fails_clearly() -> None:
    first = restore(JOB.to_input())
    first.run()
    first.close(first.scheduled(0, fn.PREPARE_RESTORE_ACTIVITY))
    first.open(first.completed(0, {"error": None, "partitions": [[0, 0, 3]]}))
    state = first.run()
    assert "returned a bad 'partitions'" in (state.error or "")

    for resume, problem in (
        ("not an object", "'resume' must be an object"),
        ({"runId": "../escape"}, "'resume.runId' is not a run id"),
        (
            {"runId": "abc", "startedMs": 1, "partitions": 2, "filesTotal": 0, "bytesTotal": 0}
            | {"done": 0, "next": 3},
            "'resume.next' is past the last partition",
        ),
    ):
        state = restore({**JOB.to_input(), "resume": resume}).run()
        assert problem in (state.error or ""), (resume, state.error)
        assert not state.atomic_actions()
