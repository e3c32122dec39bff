"""Run the HTTP front in-process on free ports against a hub stand-in."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from devhost.config import read_host_json
from devhost.front.http import HostServer
from devhost.functions.app import FunctionApp, load_app
from devhost.runner import close_sdk_session
from tests.unit.devhost.front.fake_hub import FakeHub

APPS = Path(__file__).resolve().parents[3] / "apps"
WEBHOOK = "/runtime/webhooks/durabletask"


def load(name: str) -> FunctionApp:
    folder = APPS / name
    return load_app(folder, read_host_json(folder, environ={}))


@dataclass
class Answer:
    status: int
    headers: Any
    text: str

    def json(self) -> Any:
        import json

        return json.loads(self.text)


@dataclass
class Front:
    server: HostServer
    hub: FakeHub
    session: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return self.server.url

    async def call(
        self,
        method: str,
        path: str,
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        base: str | None = None,
    ) -> Answer:
        url = (self.url if base is None else base) + path
        async with self.session.request(method, url, data=body, headers=headers) as response:
            return Answer(response.status, response.headers, await response.text())

    async def api(self, method: str, path: str, body: str | None = None, **kw: Any) -> Answer:
        headers = {"Content-Type": "application/json"} if body is not None else None
        return await self.call(method, WEBHOOK + path, body, headers=headers, **kw)


@contextlib.asynccontextmanager
async def serving(app: FunctionApp, hub: FakeHub | None = None) -> AsyncIterator[Front]:
    hub = hub or FakeHub(app.config.hub_name)
    server = HostServer(app, hub, "127.0.0.1", 0, 0)
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            yield Front(server, hub, session)
    finally:
        await close_sdk_session()  # the SDK's shared session belongs to this event loop
        await server.stop_accepting()
        await server.close()


def run(app: FunctionApp, scenario: Callable[[Front], Awaitable[None]]) -> None:
    """Serve ``app`` on free ports for the length of one scenario."""

    async def main() -> None:
        async with serving(app) as front:
            await scenario(front)

    asyncio.run(main())
