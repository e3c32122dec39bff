"""``site-backup backup`` with rule flags and ``--dry-run``, and ``site-backup schedule``, as
a user runs them: subprocesses against the local host (a subprocess) on a real Azurite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from azure.storage.blob import BlobServiceClient

from sitebackup.naming import blob_name

PROJECT_DIR = Path(__file__).resolve().parents[3]


def site_backup(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SITE_BACKUP_", "BACKUP_", "AzureWebJobs"))
    }
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "backup_client", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env=clean,
        timeout=180,
    )


def show(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def make_site(root: Path) -> dict[str, bytes]:
    files = {
        "index.html": b"<h1>home</h1>",
        "about.html": b"<p>about</p>",
        "debug.log": b"log line\n" * 50,
        "keep.log": b"kept\n",
        "node_modules/pkg/index.js": b"module.exports = 1",
        "cache/page.bin": b"\x00" * 300,
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def everything(connection_string: str) -> dict[str, dict[str, str]]:
    with BlobServiceClient.from_connection_string(connection_string) as service:
        return {
            c.name: {b.name: b.etag for b in service.get_container_client(c.name).list_blobs()}
            for c in service.list_containers()
        }


def test_dry_run_table_and_json_then_the_real_run_with_exclude_from(
    host, azurite, roots, unique_name, tmp_path
):
    site = roots / f"site-{unique_name}"
    files = make_site(site)
    rules_file = tmp_path / "rules.txt"
    rules_file.write_text("# build output\ncache/\n\n*.log\n")
    args = (
        "backup",
        str(site),
        "--url",
        host.url,
        "--container",
        unique_name,
        "--exclude-from",
        str(rules_file),
        "--exclude",
        "!keep.log",
        "--no-progress",
    )
    # node_modules/ comes from the host's BACKUP_EXCLUDE setting.
    kept = {"index.html", "about.html", "keep.log"}

    before = everything(azurite.connection_string)
    table = site_backup(*args, "--dry-run")
    assert table.returncode == 0, show(table)
    assert "nothing was written" in table.stdout
    rows = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in table.stdout.splitlines()
        if line.startswith("│")
    ]
    assert ["copy", "new", str(len(kept))] in [row[:3] for row in rows], show(table)
    assert ["skip", "excluded by rules (+ 2 folders)", "1"] in [row[:3] for row in rows]
    as_json = site_backup(*args, "--dry-run", "--json")
    assert as_json.returncode == 0, show(as_json)
    report = json.loads(as_json.stdout)
    assert report["dryRun"] is True
    assert sorted(report["paths"]["new"]) == sorted(kept)
    # debug.log; cache/, node_modules/ (a pruned folder's files are not walked, so not counted)
    assert report["skip"]["excluded"] == {"files": 1, "dirs": 2, "bytes": len(files["debug.log"])}
    assert sorted(report["paths"]["excluded"]) == ["cache/", "debug.log", "node_modules/"]
    assert report["pathsOmitted"] == {"new": 0, "changed": 0, "unchanged": 0, "excluded": 0}
    assert everything(azurite.connection_string) == before

    real = site_backup(*args, "--json")
    assert real.returncode == 0, show(real)
    result = json.loads(real.stdout)
    assert result["filesCopied"] == report["copy"]["new"]["files"]
    assert result["excluded"]["excludedFiles"] == 1
    stored = set(everything(azurite.connection_string)[unique_name])
    assert stored == {blob_name(site.name, rel) for rel in kept}
    assert sum(len(files[rel]) for rel in kept) == result["output"]


def test_a_bad_pattern_from_the_client_is_refused_with_the_pattern_named(host, roots, unique_name):
    site = roots / f"site-{unique_name}"
    make_site(site)
    result = site_backup("backup", str(site), "--url", host.url, "--exclude", "!", "--no-progress")
    assert result.returncode == 6, show(result)  # the API refused the request
    assert "'!' is not a valid gitignore pattern" in result.stderr


def _daily(at_hour: int, at_minute: int, zone: ZoneInfo, count: int = 5) -> list[datetime]:
    """The next ``count`` daily wall-clock times in ``zone``, computed by hand (UTC)."""
    now = datetime.now(zone)
    first = now.replace(hour=at_hour, minute=at_minute, second=0, microsecond=0)
    if first <= now:
        first += timedelta(days=1)
    return [(first + timedelta(days=n)).astimezone(UTC) for n in range(count)]


def test_schedule_shows_roots_and_the_next_five_occurrences_in_utc_and_local_time():
    tokyo = ZoneInfo("Asia/Tokyo")  # no daylight saving time: plain day steps
    env = {
        "BACKUP_SCHEDULE": "0 30 14 * * *",
        "BACKUP_SCHEDULE_ROOTS": json.dumps(["/srv/www", {"path": "/srv/blog", "prefix": "b"}]),
        "TZ": "Asia/Tokyo",
    }
    expected = _daily(14, 30, tokyo)
    result = site_backup("schedule", "--json", env=env)
    assert result.returncode == 0, show(result)
    answer = json.loads(result.stdout)
    assert answer["schedule"] == "0 30 14 * * *" and answer["scheduleSource"] == "the environment"
    assert [root["path"] for root in answer["roots"]] == ["/srv/www", "/srv/blog"]
    assert answer["timeZone"] == "Asia/Tokyo (TZ)"
    got = [datetime.fromisoformat(text) for text in answer["next"]]
    # The command ran a moment after `expected` was computed: a day may have turned since.
    assert got in (expected, [*expected[1:], expected[-1] + timedelta(days=1)])
    assert [t.strftime("%H:%M") for t in got] == ["05:30"] * 5  # 14:30 in Tokyo is 05:30 UTC
    local = [datetime.fromisoformat(text) for text in answer["nextLocal"]]
    assert local == got and {t.strftime("%H:%M%z") for t in local} == {"14:30+0900"}

    text = site_backup("schedule", env=env)
    assert text.returncode == 0, show(text)
    assert "/srv/blog  (prefix=b)" in text.stdout
    assert text.stdout.count("05:30:00 UTC") == 5 and text.stdout.count("14:30:00 JST local") == 5

    # As the timer runs in Azure without WEBSITE_TIME_ZONE: UTC.
    in_utc = json.loads(site_backup("schedule", "--json", "--time-zone", "UTC", env=env).stdout)
    assert {datetime.fromisoformat(t).strftime("%H:%M") for t in in_utc["next"]} == {"14:30"}


def test_schedule_rejects_a_bad_expression_and_says_scheduling_is_off_without_roots():
    bad = site_backup("schedule", env={"BACKUP_SCHEDULE": "0 0 25 * * *"})
    assert bad.returncode == 2, show(bad)
    assert "is not a valid NCRONTAB schedule" in bad.stderr
    off = site_backup(
        "schedule", env={"BACKUP_SCHEDULE": "0 0 2 * * *", "BACKUP_SCHEDULE_ROOTS": ""}
    )
    assert off.returncode == 0, show(off)
    assert "scheduled backups are off" in off.stdout
