import pytest

from devhost.functions.routes import RouteEntry, RouteError, RouteTable, parse_route


def test_literal_and_parameter_segments() -> None:
    route = parse_route("orchestrators/{functionName}")
    assert route.match("orchestrators/Hello") == {"functionName": "Hello"}
    assert route.match("ORCHESTRATORS/Hello/") == {"functionName": "Hello"}
    assert route.match("orchestrators") is None
    assert route.match("orchestrators/a/b") is None


def test_optional_parameter_and_default() -> None:
    route = parse_route("orchestrators/{functionName}/{instanceId?}")
    assert route.match("orchestrators/F") == {"functionName": "F"}
    assert route.match("orchestrators/F/abc") == {"functionName": "F", "instanceId": "abc"}
    with_default = parse_route("items/{page=1}")
    assert with_default.match("items") == {"page": "1"}
    assert with_default.match("items/4") == {"page": "4"}


def test_constraints_are_checked() -> None:
    route = parse_route("files/{id:int}/{name:alpha:minlength(2)}")
    assert route.match("files/12/ab") == {"id": "12", "name": "ab"}
    assert route.match("files/x/ab") is None
    assert route.match("files/12/a") is None
    assert route.match("files/99999999999/ab") is None  # outside int32
    assert parse_route("{flag:bool}").match("TRUE") == {"flag": "TRUE"}
    assert parse_route("{g:guid}").match("not-a-guid") is None
    assert parse_route("{n:range(1,5)}").match("6") is None
    assert parse_route("{code:regex(^[a-z]+\\d$)}").match("ab1") == {"code": "ab1"}
    assert parse_route("{code:regex(^[a-z]+\\d$)}").match("ab") is None


def test_catch_all_and_complex_segments() -> None:
    assert parse_route("static/{*path}").match("static/a/b/c.txt") == {"path": "a/b/c.txt"}
    assert parse_route("static/{*path}").match("static") == {}
    assert parse_route("dl/{file}.{ext}").match("dl/report.pdf") == {"file": "report", "ext": "pdf"}


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("a/{x:unknown}", "not known"),
        ("a/{x?}/b", "only the last segment may be optional"),
        ("a/{*x}/b", "catch-all must be the last segment"),
        ("a//b", "empty segment"),
        ("a/{x}/{X}", "used twice"),
        ("a/{1x}", "not a valid parameter name"),
        ("a/{x", "unbalanced braces"),
    ],
)
def test_bad_templates_say_why(template: str, message: str) -> None:
    with pytest.raises(RouteError, match=message):
        parse_route(template)


def test_table_prefers_literals_and_filters_methods() -> None:
    table: RouteTable[str] = RouteTable(
        [
            RouteEntry(parse_route("items/{id}"), None, "by-id"),
            RouteEntry(parse_route("items/new"), frozenset({"POST"}), "create"),
            RouteEntry(parse_route("items/{id:int}"), frozenset({"GET"}), "by-number"),
        ]
    )
    found = table.match("post", "items/new")
    assert found is not None and found.target == "create"
    found = table.match("GET", "items/new")  # the literal route does not allow GET
    assert found is not None and found.target == "by-id"
    found = table.match("GET", "items/7")
    assert found is not None and (found.target, found.values) == ("by-number", {"id": "7"})
    assert table.match("GET", "other") is None
