"""The prune starter's checks: each bad request gets a message, good ones a job."""

from __future__ import annotations

import json

import pytest

from sitebackup import request as backup_request
from sitebackup import settings as cfg
from sitebackup.errors import RequestError
from sitebackup.prune import request
from sitebackup.prune.job import PruneJob
from sitebackup.retention import Policy


def parse(body, **settings):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return request.parse(raw, cfg.Settings(**settings))


def test_a_path_and_rules_make_a_job_that_round_trips() -> None:
    start = parse({"path": "/srv/www/", "keepLast": 3, "keepWeekly": 2, "dryRun": True})
    job = start.job
    assert (job.container, job.prefix, job.dry_run) == ("backups", "www", True)
    assert job.policy == Policy(last=3, weekly=2)
    assert PruneJob.from_input(job.to_input()) == job
    assert start.instance_id == backup_request.instance_id("backups", "www")
    assert parse({"container": "site-1", "prefix": "a/b", "keepDaily": 1}).job.prefix == "a/b"


def test_without_rules_the_setting_applies() -> None:
    job = parse({"path": "/srv/www"}, retention=Policy(daily=14)).job
    assert job.policy == Policy(daily=14)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"path": "/srv/www"}, "no retention policy"),
        ({"keepLast": 1}, "say which backup to prune"),
        ({"path": "/srv/www", "keepLast": -1}, "'keepLast' must be a whole number"),
        ({"path": "/srv/www", "keepLast": "7"}, "'keepLast' must be a whole number"),
        ({"path": "/srv/www", "keepLast": 0}, "every keep rule is 0"),
        ({"path": "/srv/www", "keepLast": 1, "dryRun": "yes"}, "'dryRun' must be true or false"),
        ({"path": "/srv/www", "keepLast": 1, "forever": 1}, "unknown option"),
        ({"container": "Bad_Name", "prefix": "", "keepLast": 1}, "'container'"),
        (b"{", "not valid JSON"),
        (["x"], "JSON object"),
    ],
)
def test_a_bad_request_says_what_is_wrong(body, message: str) -> None:
    with pytest.raises(RequestError, match=message):
        parse(body)
