"""App settings and path safety."""

from __future__ import annotations

import os

import pytest

from sitebackup import paths, settings
from sitebackup.errors import ConfigError
from sitebackup.retention import Policy


def test_defaults_when_nothing_is_set():
    loaded = settings.load({})
    assert loaded == settings.Settings()
    assert loaded.allowed_roots == ()
    assert (loaded.container, loaded.partition_size, loaded.compare) == ("backups", 100, "checksum")
    assert (loaded.retry_first_interval_ms, loaded.retry_max_attempts) == (5000, 3)


def test_values_are_read(tmp_path):
    loaded = settings.load(
        {
            "BACKUP_ALLOWED_ROOTS": f"{tmp_path}{os.pathsep}/srv/www , /data",
            "BACKUP_CONTAINER": "site-backups",
            "BACKUP_PARTITION_SIZE": "100",
            "BACKUP_PARTITION_CONCURRENCY": "2",
            "BACKUP_RETRY_FIRST_INTERVAL_MS": "250",
            "BACKUP_RETRY_MAX_ATTEMPTS": "5",
            "BACKUP_COMPARE": "MTIME",
            "BACKUP_BLOCK_SIZE_MB": "8",
            "BACKUP_UPLOAD_CONCURRENCY": "4",
            "BACKUP_HTTP_POOL_SIZE": "64",
        }
    )
    assert loaded.allowed_roots == (str(tmp_path.resolve()), "/srv/www", "/data")
    assert loaded.container == "site-backups"
    assert (loaded.partition_size, loaded.partition_concurrency) == (100, 2)
    assert (loaded.retry_first_interval_ms, loaded.retry_max_attempts) == (250, 5)
    assert loaded.compare == "mtime"
    assert (loaded.block_size_mb, loaded.upload_concurrency, loaded.http_pool_size) == (8, 4, 64)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BACKUP_PARTITION_SIZE", "many", "BACKUP_PARTITION_SIZE must be an integer"),
        ("BACKUP_PARTITION_SIZE", "0", "BACKUP_PARTITION_SIZE must be between 1 and"),
        ("BACKUP_RETRY_MAX_ATTEMPTS", "-1", "BACKUP_RETRY_MAX_ATTEMPTS must be between"),
        ("BACKUP_CONTAINER", "Not_Valid", "BACKUP_CONTAINER='Not_Valid' is not valid"),
        ("BACKUP_COMPARE", "size", "BACKUP_COMPARE must be one of checksum, mtime"),
        ("BACKUP_ALLOWED_ROOTS", "relative/dir", "must list absolute directories"),
    ],
)
def test_bad_values_name_the_setting(name, value, message):
    with pytest.raises(ConfigError, match=message):
        settings.load({name: value})


def test_allowed_roots_are_resolved_through_symlinks(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    assert settings.parse_allowed_roots(str(tmp_path / "link")) == (str(real),)


def test_is_within_compares_whole_path_components():
    assert paths.is_within("/srv/www", "/srv/www")
    assert paths.is_within("/srv/www/a/b", "/srv/www")
    assert not paths.is_within("/srv/www2", "/srv/www")
    assert not paths.is_within("/srv", "/srv/www")
    assert paths.is_within("/anything", "/")


def test_root_problem_checks_containment_before_existence(tmp_path):
    allowed = (str(tmp_path),)
    (tmp_path / "file").write_text("x")
    assert paths.root_problem(str(tmp_path), allowed) is None
    assert paths.root_problem("/definitely/not/here", allowed) == (
        "the path is outside the allowed roots"
    )
    assert paths.root_problem(str(tmp_path / "missing"), allowed) == "the path does not exist"
    assert paths.root_problem(str(tmp_path / "file"), allowed) == "the path is not a directory"
    assert paths.root_problem(str(tmp_path), ()) == "no allowed roots are configured"


def test_local_path_joins_posix_relative_paths():
    assert paths.local_path("/srv/www", "a/b/c.txt") == os.path.join("/srv/www", "a", "b", "c.txt")


def test_the_retention_setting_is_read_and_checked() -> None:
    assert settings.load({"BACKUP_RETENTION": "last=7,daily=14,weekly=8"}).retention == Policy(
        last=7, daily=14, weekly=8
    )
    assert settings.load({}).retention.empty
    with pytest.raises(ConfigError, match="BACKUP_RETENTION"):
        settings.load({"BACKUP_RETENTION": "forever"})
