"""The hub's contract as the front relies on it, run against the real hub (in memory, with
the real SDK and a manual clock) and against the fake the front's tests use, so the fake
cannot drift from what it stands in for."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from devhost.contracts import (
    InstanceExists,
    InstanceGone,
    InstanceNotFound,
    InstanceQuery,
    InvalidOperation,
    RuntimeStatus,
)
from devhost.testing import StandInApp, memory_hub, wait_finished, wait_status
from tests.unit.devhost.front.fake_hub import FakeHub


def waiting(context: Any):
    """Runs until it hears "go" (or is terminated)."""
    value = yield context.wait_for_external_event("go")
    return value


@asynccontextmanager
async def real_hub() -> AsyncIterator[Any]:
    async with memory_hub(StandInApp({"Waiting": waiting})) as hub:
        yield hub


@asynccontextmanager
async def fake_hub() -> AsyncIterator[Any]:
    yield FakeHub()


HUBS = {"real": real_hub, "fake": fake_hub}


def contract(test: Callable[[Any], Any]) -> Callable[[str], None]:
    @pytest.mark.parametrize("kind", sorted(HUBS))
    def run(kind: str) -> None:
        async def body() -> None:
            async with HUBS[kind]() as hub:
                await test(hub)

        asyncio.run(asyncio.wait_for(body(), 60))

    run.__name__ = test.__name__
    run.__doc__ = test.__doc__
    return run


@contract
async def test_a_started_instance_is_there_and_an_unknown_one_is_not(hub: Any) -> None:
    info = await hub.start_instance("Waiting", "i1", '"in"')
    assert (info.instance_id, info.name, info.input) == ("i1", "Waiting", '"in"')
    assert info.runtime_status is RuntimeStatus.PENDING
    seen = await hub.get_instance("i1")
    assert seen is not None and seen.runtime_status in (
        RuntimeStatus.PENDING,
        RuntimeStatus.RUNNING,
    )
    assert await hub.get_instance("nope") is None


@contract
async def test_an_id_in_use_cannot_be_started_again(hub: Any) -> None:
    await hub.start_instance("Waiting", "dup", None)
    with pytest.raises(InstanceExists):
        await hub.start_instance("Waiting", "dup", None)


@contract
async def test_messages_to_an_unknown_instance_are_not_found(hub: Any) -> None:
    for call in (
        hub.raise_event("ghost", "go", None),
        hub.terminate("ghost", "why"),
        hub.suspend("ghost", None),
        hub.resume("ghost", None),
    ):
        with pytest.raises(InstanceNotFound):
            await call


@contract
async def test_suspend_and_resume_check_the_state(hub: Any) -> None:
    await hub.start_instance("Waiting", "s1", None)
    with pytest.raises(InvalidOperation):
        await hub.resume("s1", "not suspended")
    await hub.suspend("s1", "pause")
    await wait_status(hub, "s1", RuntimeStatus.SUSPENDED)
    with pytest.raises(InvalidOperation):
        await hub.suspend("s1", "again")
    await hub.resume("s1", "go on")
    await wait_status(hub, "s1", RuntimeStatus.RUNNING)


@contract
async def test_a_terminated_instance_takes_no_more_messages(hub: Any) -> None:
    await hub.start_instance("Waiting", "t1", None)
    await hub.terminate("t1", "enough")
    info = await wait_finished(hub, "t1")
    assert info.runtime_status is RuntimeStatus.TERMINATED
    assert "enough" in (info.output or "")
    with pytest.raises(InstanceGone):
        await hub.raise_event("t1", "go", None)
    with pytest.raises(InstanceGone):
        await hub.terminate("t1", "again")


@contract
async def test_wait_for_change_wakes_on_a_change_and_returns_on_time(hub: Any) -> None:
    await hub.start_instance("Waiting", "w1", None)
    quiet = await hub.wait_for_change("nobody", 0.05)
    assert quiet is None
    waiter = asyncio.create_task(hub.wait_for_change("w1", 30))
    await asyncio.sleep(0)
    await hub.terminate("w1", "stop")
    await asyncio.wait_for(waiter, 30)  # woken by the change, long before its 30 s
    info = await wait_finished(hub, "w1")
    assert info.runtime_status is RuntimeStatus.TERMINATED


@contract
async def test_queries_page_in_creation_order_and_filter(hub: Any) -> None:
    for name in ("q-a", "q-b", "q-c", "other"):
        await hub.start_instance("Waiting", name, None)
    seen: list[str] = []
    token = None
    for _ in range(10):
        page = await hub.query_instances(
            InstanceQuery(instance_id_prefix="q-", top=2, continuation_token=token)
        )
        assert len(page.instances) <= 2
        seen += [info.instance_id for info in page.instances]
        token = page.continuation_token
        if token is None:
            break
    assert seen == ["q-a", "q-b", "q-c"]


@contract
async def test_purge_removes_a_finished_instance_once(hub: Any) -> None:
    await hub.start_instance("Waiting", "p1", None)
    await hub.terminate("p1", "done")
    await wait_finished(hub, "p1")
    assert await hub.purge("p1") == 1
    assert await hub.get_instance("p1") is None
    assert await hub.purge("p1") == 0
    done = await hub.query_instances(InstanceQuery(statuses=frozenset({RuntimeStatus.TERMINATED})))
    assert [info.instance_id for info in done.instances] == []


def test_an_event_reaches_the_real_orchestrator() -> None:
    """What the fake cannot do: the real hub runs the orchestrator to its end."""

    async def body() -> None:
        async with real_hub() as hub:
            await hub.start_instance("Waiting", "e1", None)
            await hub.raise_event("e1", "go", json.dumps("payload"))
            info = await wait_finished(hub, "e1")
            assert info.runtime_status is RuntimeStatus.COMPLETED
            assert json.loads(info.output) == "payload"

    asyncio.run(asyncio.wait_for(body(), 60))
