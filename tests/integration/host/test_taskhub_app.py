"""The task hub driving a real v1 app folder through the host's app loader."""

from __future__ import annotations

import json
from pathlib import Path

from devhost.config import read_host_json
from devhost.contracts import RuntimeStatus
from devhost.functions.app import load_app
from devhost.hub.client import TaskHub
from devhost.hub.store import Store
from tests.integration.host.support import run, wait_finished

APPS = Path(__file__).resolve().parents[2] / "apps"


def test_the_fan_out_app_completes_with_two_replays(tmp_path: Path) -> None:
    app_dir = APPS / "fan_out"
    config = read_host_json(app_dir)
    app = load_app(app_dir, config)
    options = config.host_options()
    assert options.max_concurrent_activities == 8  # from the app's host.json

    async def scenario() -> None:
        store = Store.open(tmp_path, options.hub_name)
        hub = TaskHub(store, app, options)
        try:
            await hub.start()
            # As the SDK client sends it: the input's JSON text inside a JSON string.
            await hub.start_instance("FanOut", "app-fan", json.dumps("1000"))
            done = await wait_finished(hub, "app-fan", timeout=60)
            assert done.runtime_status is RuntimeStatus.COMPLETED, done.output
            assert json.loads(done.output) == {
                "count": 1000,
                "sum": sum(n * n for n in range(1000)),
            }
            assert json.loads(done.custom_status) == {"done": 1000}
            assert hub.episode_counts["app-fan"] == 2
        finally:
            await hub.stop()
            app.close(True)
            store.close()

    run(scenario())
