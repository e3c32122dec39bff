"""The orchestration input: what the starter writes is what the orchestrators read."""

from __future__ import annotations

import pytest

from sitebackup.errors import JobError
from sitebackup.job import Job


def test_round_trip_through_the_orchestration_input():
    job = Job(
        root="/srv/www",
        container="c-1",
        prefix="a/b",
        compare="mtime",
        partition_size=10,
        partition_concurrency=2,
        retry_first_interval_ms=100,
        retry_max_attempts=4,
    )
    assert Job.from_input(job.to_input()) == job


def test_defaults_for_missing_fields():
    job = Job.from_input({"path": "/srv/www"})
    assert (job.root, job.container, job.prefix, job.compare) == (
        "/srv/www",
        "backups",
        "www",
        "checksum",
    )
    assert (job.partition_size, job.retry_max_attempts) == (100, 3)


def test_the_descriptor_is_small_and_has_no_orchestration_knobs():
    job = Job(root="/srv/www", prefix="www")
    assert job.descriptor() == {
        "root": "/srv/www",
        "container": "backups",
        "prefix": "www",
        "compare": "checksum",
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "must be a JSON object or a string, got NoneType"),
        ([], "got list"),
        ({}, "'root' must be a non-empty string"),
        ({"root": "rel"}, "'root' must be an absolute path"),
        ({"root": "/a", "prefix": 3}, "'prefix' must be a string"),
        ({"root": "/a", "prefix": "a/../b"}, "'prefix' is not valid"),
        ({"root": "/a", "compare": "x"}, "'compare' must be one of"),
        ({"root": "/a", "partitionSize": True}, "'partitionSize' must be a positive integer"),
        ({"root": "/a", "retry": []}, "'retry' must be an object"),
        ({"root": "/a", "retry": {"maxAttempts": 0}}, "'retry.maxAttempts' must be a positive"),
    ],
)
def test_bad_inputs_name_the_field(value, message):
    with pytest.raises(JobError, match=message.replace("(", r"\(")):
        Job.from_input(value)
