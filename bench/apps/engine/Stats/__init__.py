"""GET /stats: the counters of this process (episodes, orchestrator time, activities)."""

from __future__ import annotations

import json

import azure.functions as func
from engine_counters import snapshot


def main(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(snapshot()), mimetype="application/json")
