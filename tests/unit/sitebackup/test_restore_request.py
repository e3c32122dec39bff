"""The restore request: every bad request is refused with a message before anything starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sitebackup import settings as cfg
from sitebackup.errors import RequestError
from sitebackup.restore import request
from sitebackup.restore.request import Choice

SNAPSHOTS = [("run-3", 3_000), ("run-2", 2_000), ("run-1", 1_000)]  # newest first


def find(container: str, prefix: str, choice: Choice) -> str:
    found = request.choose(SNAPSHOTS, choice)
    if found is None:
        raise RequestError(f"there is no {choice.describe()}")
    return found


@pytest.fixture
def settings(tmp_path: Path) -> cfg.Settings:
    (tmp_path / "restores").mkdir()
    return cfg.Settings(restore_roots=(str(tmp_path / "restores"),))


def parse(settings: cfg.Settings, body: object) -> request.RestoreStart:
    return request.parse(json.dumps(body).encode(), settings, find)


def test_a_good_request_becomes_a_job(settings: cfg.Settings) -> None:
    target = f"{settings.restore_roots[0]}/site"
    start = parse(
        settings,
        {"path": "/srv/www", "target": target, "include": ["img/"], "existing": "overwrite"},
    )
    assert start.job.container == cfg.DEFAULT_CONTAINER and start.job.prefix == "www"
    assert start.job.snapshot == "run-3" and start.job.target == target
    assert start.job.include == ("img/",) and start.job.existing == "overwrite"
    assert start.instance_id == request.instance_id(target)
    other = parse(settings, {"container": "c-1", "prefix": "a/b", "target": target})
    assert (other.job.container, other.job.prefix) == ("c-1", "a/b")


def test_snapshot_by_id_and_as_of(settings: cfg.Settings) -> None:
    target = f"{settings.restore_roots[0]}/site"
    base = {"path": "/srv/www", "target": target}
    assert parse(settings, {**base, "snapshot": "run-1"}).job.snapshot == "run-1"
    assert parse(settings, {**base, "snapshot": "latest"}).job.snapshot == "run-3"
    as_of = "1970-01-01T00:00:02.500Z"
    assert parse(settings, {**base, "asOf": as_of}).job.snapshot == "run-2"


def test_no_restore_roots_says_how_to_allow_one(tmp_path: Path) -> None:
    with pytest.raises(RequestError, match=cfg.RESTORE_ROOTS):
        request.parse(b'{"path": "/srv/www", "target": "/tmp/x"}', cfg.Settings(), find)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"path": "/srv/www"}, "'target' is missing"),
        ({"path": "/srv/www", "target": "/somewhere/else"}, "outside the restore roots"),
        ({"path": "/srv/www", "target": "relative/dir"}, "absolute"),
        ({"path": "/srv/www", "target": 5}, "must be a string"),
        ({"target": "{root}/s"}, "say which backup"),
        ({"path": "/srv/www", "target": "{root}/s", "snapshot": "run-9"}, "no snapshot"),
        ({"path": "/srv/www", "target": "{root}/s", "asOf": "1969-01-01"}, "before 1969"),
        ({"path": "/srv/www", "target": "{root}/s", "asOf": "yesterday"}, "not a time"),
        ({"path": "/srv/www", "target": "{root}/s", "snapshot": "a", "asOf": "2020"}, "not both"),
        ({"path": "/srv/www", "target": "{root}/s", "include": "*.png"}, "list"),
        ({"path": "/srv/www", "target": "{root}/s", "include": ["[z-a]"]}, "not valid"),
        ({"path": "/srv/www", "target": "{root}/s", "existing": "replace"}, "'existing'"),
        ({"path": "/srv/www", "target": "{root}/s", "container": "Bad_Name"}, "container"),
        ({"path": "/srv/www", "target": "{root}/s", "colour": "red"}, "unknown option"),
        (["/srv/www"], "JSON object"),
    ],
)
def test_bad_requests_are_refused_with_a_message(
    settings: cfg.Settings, body: object, message: str
) -> None:
    root = settings.restore_roots[0]
    if isinstance(body, dict):
        body = {k: v.replace("{root}", root) if isinstance(v, str) else v for k, v in body.items()}
    with pytest.raises(RequestError, match=message):
        parse(settings, body)


def test_a_target_that_is_a_file_is_refused(settings: cfg.Settings) -> None:
    path = Path(settings.restore_roots[0]) / "file"
    path.write_text("x")
    with pytest.raises(RequestError, match="not a folder"):
        parse(settings, {"path": "/srv/www", "target": str(path)})
