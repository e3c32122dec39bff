"""The starter's request parsing: every bad request is refused with a message that helps."""

from __future__ import annotations

import json
import os

import pytest

from sitebackup import request
from sitebackup.errors import RequestError
from sitebackup.settings import Settings


@pytest.fixture
def tree(tmp_path):
    allowed = tmp_path / "sites"
    (allowed / "www" / "css").mkdir(parents=True)
    (allowed / "www" / "index.html").write_text("<h1>hi</h1>")
    (tmp_path / "outside").mkdir()
    return allowed


@pytest.fixture
def settings(tree):
    return Settings(allowed_roots=(str(tree.resolve()),))


def body(value) -> bytes:
    return json.dumps(value).encode()


def test_a_json_string_is_the_directory(tree, settings):
    start = request.parse(body(str(tree / "www")), settings)
    assert start.job.root == str((tree / "www").resolve())
    assert (start.job.container, start.job.prefix) == ("backups", "www")
    assert start.instance_id.startswith("backup-") and len(start.instance_id) == 39


def test_an_object_with_options(tree, settings):
    start = request.parse(
        body(
            {"path": str(tree / "www"), "container": "other", "prefix": "/a/b/", "compare": "mtime"}
        ),
        settings,
    )
    assert (start.job.container, start.job.prefix, start.job.compare) == ("other", "a/b", "mtime")


def test_the_job_carries_the_orchestration_settings(tree):
    settings = Settings(
        allowed_roots=(str(tree.resolve()),),
        partition_size=7,
        partition_concurrency=3,
        retry_first_interval_ms=10,
        retry_max_attempts=9,
    )
    job_input = request.parse(body(str(tree / "www")), settings).job.to_input()
    assert job_input["partitionSize"] == 7 and job_input["partitionConcurrency"] == 3
    assert job_input["retry"] == {"firstIntervalMs": 10, "maxAttempts": 9}


def test_the_instance_id_is_one_per_destination(tree, settings):
    www = str(tree / "www")
    first = request.parse(body(www), settings).instance_id
    assert request.parse(body(www + "/"), settings).instance_id == first
    assert request.parse(body({"path": www, "prefix": "www"}), settings).instance_id == first
    assert request.parse(body({"path": www, "prefix": "x"}), settings).instance_id != first
    assert request.parse(body({"path": www, "container": "c2c"}), settings).instance_id != first


def test_the_default_prefix_is_the_name_the_caller_used(tree, settings):
    (tree / "current").symlink_to(tree / "www")
    start = request.parse(body(str(tree / "current")), settings)
    assert start.job.root == str((tree / "www").resolve())
    assert start.job.prefix == "current"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "the request body is empty"),
        (b"   ", "the request body is empty"),
        (b"\xff\xfe", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"42", "must be a JSON string or object, got a number"),
        (b"[1]", "got an array"),
        (b"null", "got null"),
        (b'{"container": "x"}', "'path' is missing"),
        (b'{"path": 5}', "'path' must be a string, got a number"),
        (b'{"path": ""}', "'path' is empty"),
        (b'{"path": "/a", "colour": "red"}', "unknown option(s) 'colour'"),
        (b'"relative/dir"', "'path' must be absolute"),
        (b'"/srv/a\\u0000b"', "NUL character"),
        (b"[" * 100_000 + b"]" * 100_000, "nests JSON too deeply"),
        (b"1" * 5000, "cannot be decoded"),  # beyond Python's integer digit limit
    ],
)
def test_malformed_requests(raw, message, settings):
    with pytest.raises(RequestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        request.parse(raw, settings)


def test_paths_outside_the_allowed_roots_are_refused_without_saying_if_they_exist(tree, settings):
    for outside in (str(tree.parent / "outside"), "/nonexistent/place", str(tree / "www/../..")):
        with pytest.raises(RequestError) as caught:
            request.parse(body(outside), settings)
        assert "outside the allowed roots" in str(caught.value)
        assert "BACKUP_ALLOWED_ROOTS" in str(caught.value)


def test_a_symlink_out_of_the_allowed_roots_is_refused(tree, settings):
    (tree / "escape").symlink_to(tree.parent / "outside")
    with pytest.raises(RequestError, match="outside the allowed roots"):
        request.parse(body(str(tree / "escape")), settings)


def test_missing_and_non_directory_paths(tree, settings):
    with pytest.raises(RequestError, match="does not exist"):
        request.parse(body(str(tree / "nope")), settings)
    with pytest.raises(RequestError, match="not a directory"):
        request.parse(body(str(tree / "www" / "index.html")), settings)


def test_bad_options(tree, settings):
    www = str(tree / "www")
    for options, message in (
        ({"container": "Bad_Name"}, "'container' 'Bad_Name' is not valid"),
        ({"container": 3}, "'container' must be a string"),
        ({"prefix": "../up"}, "'prefix' is not valid"),
        ({"prefix": ["a"]}, "'prefix' must be a string"),
        ({"compare": "size"}, "'compare' must be one of"),
    ):
        with pytest.raises(RequestError, match=message):
            request.parse(body({"path": www, **options}), settings)


def test_every_request_is_refused_when_no_roots_are_configured(tree):
    for raw in (body(str(tree / "www")), b"", b"{bad"):
        with pytest.raises(RequestError) as caught:
            request.parse(raw, Settings())
        assert "set the app setting BACKUP_ALLOWED_ROOTS" in str(caught.value)
        assert os.pathsep in str(caught.value)


def test_messages_quote_only_the_start_of_what_was_sent(tree, settings):
    huge = "/" + "x" * (1 << 20)
    for raw, quoted in (
        (body(huge), huge),
        (body(str(tree / "www") + "/x" * 5000), str(tree / "www") + "/x" * 5000),
        (body({"path": str(tree / "www"), "container": "C" * 100_000}), "C" * 100_000),
        (body({"path": "/a", "z" * 100_000: 1}), "z" * 100_000),
        (body({"path": str(tree / "www"), "prefix": "../" * 100_000}), "../" * 100_000),
    ):
        with pytest.raises(RequestError) as caught:
            request.parse(raw, settings)
        message = str(caught.value)
        assert len(message) < 1000, message[:300]
        assert repr(quoted[:200] + "…") in message, message[:300]
