"""BACKUP_SCHEDULE_ROOTS: the two forms and the errors that name the bad entry."""

from __future__ import annotations

import pytest

from sitebackup import schedule_roots
from sitebackup.errors import ConfigError


def test_a_plain_list_of_directories():
    assert schedule_roots.parse(" /srv/www , /srv/blog:/srv/shop ") == [
        {"path": "/srv/www"},
        {"path": "/srv/blog"},
        {"path": "/srv/shop"},
    ]


def test_empty_means_no_root():
    assert schedule_roots.parse("   ") == []


def test_a_json_array_of_paths_and_request_options():
    value = '["/srv/www", {"path": "/srv/blog", "container": "nightly", "exclude": ["*.log"]}]'
    assert schedule_roots.parse(value) == [
        {"path": "/srv/www"},
        {"path": "/srv/blog", "container": "nightly", "exclude": ["*.log"]},
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('["/srv/www"', "not valid JSON"),
        ("[1]", r"BACKUP_SCHEDULE_ROOTS\[0\] must be a directory or an object"),
        ('[{"container": "x"}]', r"\[0\] needs 'path'"),
        ('["/a", {"path": "/b", "dryRun": true}]', r"\[1\] has unknown option\(s\) 'dryRun'"),
    ],
)
def test_bad_values_name_the_entry(value, message):
    with pytest.raises(ConfigError, match=message):
        schedule_roots.parse(value)
