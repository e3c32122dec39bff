from pathlib import Path

import pytest

from devhost.functions.bindings import (
    FunctionJsonError,
    FunctionKind,
    parse_function_json,
    read_function_json,
)

HTTP = {"name": "req", "type": "httpTrigger", "direction": "in"}


def spec(data: dict, name: str = "Fn"):
    return parse_function_json(name, Path("/app") / name, data)


def test_defaults_for_script_entry_point_route_and_methods() -> None:
    s = spec({"bindings": [HTTP, {"name": "$return", "type": "http", "direction": "out"}]})
    assert s.script_file == Path("/app/Fn/__init__.py")
    assert s.entry_point == "main"
    assert s.kind is FunctionKind.HTTP
    assert s.route == "Fn"
    assert s.methods is None
    assert s.disabled is False
    assert [b.name for b in s.http_outputs] == ["$return"]
    assert s.unsupported_bindings() == []


def test_trigger_kinds_and_client_bindings() -> None:
    kinds = {
        "orchestrationTrigger": FunctionKind.ORCHESTRATOR,
        "activityTrigger": FunctionKind.ACTIVITY,
        "entityTrigger": FunctionKind.ENTITY,
        "timerTrigger": FunctionKind.TIMER,
        "queueTrigger": FunctionKind.UNSUPPORTED,
    }
    for trigger, kind in kinds.items():
        s = spec({"bindings": [{"name": "x", "type": trigger, "direction": "in"}]})
        assert s.kind is kind, trigger
    s = spec(
        {
            "bindings": [
                {**HTTP, "route": "orchestrators/{functionName}", "methods": ["post", "Get"]},
                {"name": "starter", "type": "durableClient", "direction": "in"},
                {"name": "old", "type": "orchestrationClient", "direction": "in"},
            ]
        }
    )
    assert [b.name for b in s.client_bindings] == ["starter", "old"]
    assert s.methods == frozenset({"GET", "POST"})
    assert s.route == "orchestrators/{functionName}"


def test_other_bindings_are_reported_as_unsupported() -> None:
    s = spec(
        {
            "bindings": [
                {"name": "name", "type": "activityTrigger", "direction": "in"},
                {"name": "out", "type": "blob", "direction": "out", "path": "c/{x}"},
            ]
        }
    )
    assert [b.name for b in s.unsupported_bindings()] == ["out"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must hold a JSON object"),
        ({}, "no 'bindings' list"),
        ({"bindings": [{"name": "x", "direction": "in"}]}, "has no 'type'"),
        ({"bindings": [{"type": "httpTrigger", "direction": "in"}]}, "has no 'name'"),
        ({"bindings": [{**HTTP, "direction": "sideways"}]}, "invalid direction"),
        ({"bindings": [{**HTTP, "name": "my-req"}]}, "not a valid Python identifier"),
        ({"bindings": [{"name": "x", "type": "http", "direction": "out"}]}, "no trigger"),
        (
            {"bindings": [HTTP, {"name": "t", "type": "timerTrigger", "direction": "in"}]},
            "more than one trigger",
        ),
        ({"bindings": [HTTP, {**HTTP}]}, "used more than once"),
        ({"bindings": [HTTP], "scriptFile": "main.js"}, "not a Python file"),
        ({"bindings": [HTTP], "entryPoint": "not valid"}, "entryPoint"),
        ({"bindings": [{**HTTP, "methods": ["FETCH"]}]}, "unknown HTTP methods: FETCH"),
    ],
)
def test_errors_name_the_function_and_the_cause(data: object, message: str) -> None:
    with pytest.raises(FunctionJsonError, match=message) as raised:
        spec(data, name="Broken")  # type: ignore[arg-type]
    assert str(raised.value).startswith("Function 'Broken': ")


def test_read_function_json_reports_invalid_json(tmp_path: Path) -> None:
    folder = tmp_path / "Bad"
    folder.mkdir()
    (folder / "function.json").write_text('{"bindings": [')
    with pytest.raises(FunctionJsonError, match="Function 'Bad': function.json is not valid JSON"):
        read_function_json(folder)


def test_disabled_accepts_booleans_and_strings() -> None:
    assert spec({"bindings": [HTTP], "disabled": True}).disabled
    assert spec({"bindings": [HTTP], "disabled": "true"}).disabled
    assert not spec({"bindings": [HTTP], "disabled": "false"}).disabled
