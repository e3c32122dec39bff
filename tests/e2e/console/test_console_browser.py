"""The console in a real headless Chromium, against the local host, the app and Azurite.

What a person does: open the console, start a backup from the form, watch it reach
Completed, read its timeline and the files that failed, terminate a long one. The checks
read the page, and compare with what the test made on disk, not with what the API said.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from devhost.poll import poll
from tests.e2e.console.snapshot_trees import two_snapshots
from tests.reliability.privileges import UnprivilegedHost, unprivileged_prefix
from tests.support.host_process import http_request, running_host

PROJECT_DIR = Path(__file__).resolve().parents[3]


ACTIVE = ("Running", "Pending")


def make_tree(root: Path, files: int) -> dict[str, bytes]:
    contents = {}
    for index in range(files):
        rel = f"dir{index % 3}/file-{index:04d}.txt"
        data = f"content of file {index}\n".encode() * (index % 7 + 1)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        contents[rel] = data
    return contents


def start_from_form(page, folder: str) -> str:
    """Fill the start form with a folder of the only allowed root; returns the run's id."""
    page.get_by_role("link", name="Start a backup").click()
    page.get_by_label("Folder inside it (optional)").fill(folder)
    page.get_by_role("button", name="Start the backup").click()
    page.wait_for_url(re.compile(r"#/run/backup-[0-9a-f]{32}$"))
    return page.url.rsplit("/", 1)[1]


def dry_run_from_form(page, url: str, folder: str, exclude: str) -> None:
    """Start a dry run of ``folder`` from the form and wait until its page says Completed."""
    page.goto(url + "/console#/start")
    page.get_by_label("Folder inside it (optional)").fill(folder)
    page.get_by_label("Exclude (optional)").fill(exclude)
    page.get_by_label("Dry run: list what would be copied, copy nothing").check()
    page.get_by_role("button", name="Start the backup").click()
    page.wait_for_url(re.compile(r"#/run/dryrun-[0-9a-f]{32}$"))
    page.locator("#summary .badge:text-is('Completed')").wait_for(timeout=120_000)


def summary_value(page, name: str) -> str:
    return page.locator(f"#summary dt:text-is('{name}') + dd").inner_text()


def test_start_from_the_form_and_watch_it_complete(console_host, allowed_root, page):
    tree = make_tree(allowed_root / "site", 45)
    page.goto(console_host.url + "/console")
    page.get_by_role("heading", name="Backups").wait_for()
    run_id = start_from_form(page, "site")

    page.locator("#summary .badge:text-is('Completed')").wait_for(timeout=60_000)
    assert summary_value(page, "Files").startswith(f"{len(tree)} of {len(tree)} done")
    total = sum(len(data) for data in tree.values())
    assert f"({total} bytes)" in summary_value(page, "Output")
    # The timeline: the listing, every partition (10 files each), the final step.
    labels = page.locator("#timeline ol.gantt li .label").all_inner_texts()
    partitions = -(-len(tree) // 10)
    assert labels[0] == "listing"
    assert sorted(label for label in labels if label.startswith("partition")) == sorted(
        f"partition {n}" for n in range(1, partitions + 1)
    )
    assert labels[-1] == "final step"
    assert page.locator("#failed").inner_text().count("No file failed") == 1

    # Back to the list: the run is there, newest first, with its counts.
    page.get_by_role("link", name="All backups").click()
    row = page.locator(f"#runs tr[data-id='{run_id}']")
    row.wait_for()
    assert row.get_attribute("data-status") == "Completed"
    assert f"{len(tree)} of {len(tree)}" in row.inner_text()


@pytest.fixture
def unreadable_host(tmp_path, host_env):
    prefix = unprivileged_prefix()
    if prefix is None:
        pytest.fail("setpriv (util-linux) is needed to make a file unreadable to the host")
    host = UnprivilegedHost(PROJECT_DIR, tmp_path / "state-u", env=host_env, prefix=tuple(prefix))
    host.start()
    try:
        yield host
    finally:
        host.stop()


def test_failed_files_and_why(unreadable_host, allowed_root, page):
    make_tree(allowed_root / "www", 12)
    secret = allowed_root / "www" / "dir1" / "secret.txt"
    secret.write_text("nobody may read this")
    secret.chmod(0)
    assert not os.access(secret, os.R_OK) or os.geteuid() == 0

    page.goto(unreadable_host.url + "/console#/start")
    start_from_form(page, "www")
    page.locator("#summary .badge:text-is('Completed')").wait_for(timeout=60_000)

    failed = page.locator("#failed")
    assert "Failed files (1)" in failed.inner_text()
    cells = failed.locator("tbody tr td").all_inner_texts()
    assert cells[0] == "dir1/secret.txt"
    assert "permission" in cells[1].lower() or "read" in cells[1].lower(), cells[1]
    assert page.locator("#timeline ol.gantt li").count() >= 3


@pytest.fixture
def slow_host(tmp_path, host_env):
    """One partition holding the whole tree: a backup that takes a while, and a partition
    still copying when the run is terminated."""
    env = {**host_env, "BACKUP_PARTITION_SIZE": "2000", "BACKUP_PARTITION_CONCURRENCY": "1"}
    with running_host(PROJECT_DIR, tmp_path / "state-slow", env=env) as host:
        yield host


def test_terminate_a_long_backup(slow_host, allowed_root, page):
    console_host = slow_host
    make_tree(allowed_root / "big", 2000)
    page.goto(console_host.url + "/console")
    run_id = start_from_form(page, "big")
    # It runs: the page says so and offers to terminate it.
    terminate = page.get_by_role("button", name="Terminate")
    terminate.wait_for(timeout=30_000)
    # Wait until a partition copies, so there is one to stop.
    children_url = (
        f"{console_host.url}/runtime/webhooks/durabletask/instances?instanceIdPrefix={run_id}:"
    )
    running = poll(
        children_url,
        lambda a: any(c["runtimeStatus"] == "Running" for c in a.json() or []),
        timeout=60,
        what="a running partition",
    )
    running_child = next(c["instanceId"] for c in running.json() if c["runtimeStatus"] == "Running")
    terminate.click()
    page.locator("#summary .badge:text-is('Terminated')").wait_for(timeout=60_000)
    assert "terminated from the console" in page.locator("#run-error").inner_text()
    # The host agrees, independently of the page.
    answer = http_request(
        "GET", f"{console_host.url}/runtime/webhooks/durabletask/instances/{run_id}"
    )
    assert answer.json()["runtimeStatus"] == "Terminated"
    # Its partitions stop too (the extension does not pass a terminate on to them): the
    # one running when the button was pressed ends Terminated, and none runs any more.
    answer = poll(
        children_url,
        lambda a: not [c for c in a.json() if c["runtimeStatus"] in ACTIVE],
        timeout=60,
        what="no partition running",
    )
    ended = {c["instanceId"]: c["runtimeStatus"] for c in answer.json()}
    assert ended.get(running_child) == "Terminated", ended
    # And it can be started again from the same page.
    page.get_by_role("button", name="Start again").click()
    page.locator(
        "#summary .badge:text-is('Running'), #summary .badge:text-is('Pending')"
    ).first.wait_for()


def alert_text(page) -> str:
    alert = page.get_by_role("alert")
    alert.wait_for()
    return alert.inner_text()


def test_api_errors_are_messages_on_the_page(console_host, allowed_root, page):
    # A bad filter: the API's 400 message, on the page.
    page.goto(console_host.url + "/console#/runs?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z")
    assert "'from' is after 'to'" in alert_text(page)
    # A run that does not exist.
    page.goto(console_host.url + "/console#/run/backup-0000")
    page.get_by_role("heading", name="Backup not found").wait_for()
    assert "no run 'backup-0000'" in page.locator("main").inner_text()
    # A start the starter refuses: its message, and the form stays filled in.
    page.goto(console_host.url + "/console#/start")
    page.get_by_label("Folder inside it (optional)").fill("not-there")
    page.get_by_role("button", name="Start the backup").click()
    text = alert_text(page)
    assert "The backup was not started" in text and "does not exist" in text
    assert page.get_by_label("Folder inside it (optional)").input_value() == "not-there"
    # The host goes away: the page says so instead of going blank.
    page.goto(console_host.url + "/console#/runs")
    page.locator("#runs-state").wait_for()
    console_host.stop()
    page.get_by_role("button", name="Filter", exact=True).click()
    assert "did not answer" in alert_text(page)
    assert page.get_by_role("heading", name="Backups").is_visible()


def test_keyboard_only_start(console_host, allowed_root, page):
    make_tree(allowed_root / "kb", 5)
    page.goto(console_host.url + "/console")
    page.get_by_role("heading", name="Backups").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    # Tab to the "Start a backup" link and follow it with Enter.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Start a backup":
            break
    page.keyboard.press("Enter")
    folder = page.get_by_label("Folder inside it (optional)")
    folder.wait_for()
    folder.focus()
    page.keyboard.type("kb")
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_url(re.compile(r"#/run/backup-"))
    page.locator("#summary .badge:text-is('Completed')").wait_for(timeout=60_000)


def test_readable_in_a_narrow_window(console_host, allowed_root, page):
    make_tree(allowed_root / "narrow", 12)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(console_host.url + "/console")
    start_from_form(page, "narrow")
    page.locator("#summary .badge:text-is('Completed')").wait_for(timeout=60_000)
    no_sideways = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_sideways)
    page.get_by_role("link", name="All backups").click()
    page.locator("#runs tbody tr").first.wait_for()
    assert page.evaluate(no_sideways)
    # Each cell says what it is when the table becomes cards.
    label = page.locator("#runs tbody td").first.evaluate(
        "cell => getComputedStyle(cell, '::before').content"
    )
    assert label == '"Run"'


@pytest.mark.slow
def test_paging_through_ten_thousand(crowded_host, page):
    page.goto(crowded_host.url + "/console")
    rows = page.locator("#runs tbody tr")
    rows.first.wait_for()
    first_page = rows.evaluate_all("rows => rows.map(r => r.dataset.id)")
    assert len(first_page) == 25
    older = page.get_by_role("button", name="Older →")
    for number in (2, 3):
        older.click()
        page.locator("#page-label", has_text=f"Page {number}").wait_for()
    third = rows.evaluate_all("rows => rows.map(r => r.dataset.id)")
    assert len(third) == 25 and not set(third) & set(first_page)
    page.get_by_role("button", name="← Newer").click()
    page.get_by_role("button", name="← Newer").click()
    page.locator("#page-label", has_text="Page 1").wait_for()
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.id)") == first_page


def test_a_dry_run_from_the_form_copies_nothing_and_says_what_it_would(
    console_host, allowed_root, page, storage_connection_string, unique_name
):
    tree = make_tree(allowed_root / "dry", 9)
    (allowed_root / "dry" / "debug.log").write_text("noise")
    dry_run_from_form(page, console_host.url, "dry", "*.log")
    report = page.locator("#dry-run").inner_text()
    assert f"copy, new: {len(tree)} files" in report
    assert "left out by the rules: 1 file, 0 folders" in report
    listed = set(page.locator("#dry-run-new li").all_inner_texts())
    assert listed == set(tree)
    assert page.locator("#dry-run-excluded li").all_inner_texts() == ["debug.log"]
    # Every path is listed: nothing says some were left out.
    assert page.locator("#dry-run .omitted").count() == 0
    # Nothing was copied: the container holds no blob of it.
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(storage_connection_string)
    container = service.get_container_client(unique_name)
    assert not container.exists() or not list(container.list_blobs(name_starts_with="dry/"))
    # The list calls it a dry run.
    page.get_by_role("link", name="Backups", exact=True).click()
    row = page.locator("#runs tbody tr[data-kind='dryrun']")
    row.wait_for()
    assert "Dry run" in row.text_content()


def test_a_dry_run_of_a_big_tree_says_how_many_paths_it_did_not_list(
    console_host, allowed_root, page
):
    # More files of each kind than a dry run's report lists (its sample is bounded), so the
    # page must say the lists are partial.
    tree = make_tree(allowed_root / "big", 1234)
    logs = [f"logs/run-{index:04d}.log" for index in range(1100)]
    (allowed_root / "big" / "logs").mkdir()
    for rel in logs:
        (allowed_root / "big" / rel).write_text("noise")
    dry_run_from_form(page, console_host.url, "big", "*.log")

    for kind, everything in (("new", sorted(tree)), ("excluded", sorted(logs))):
        listed = page.locator(f"#dry-run-{kind} li").all_inner_texts()
        assert 0 < len(listed) < len(everything), kind
        # The first ones in name order, as the note says, and only paths of the tree.
        assert listed == everything[: len(listed)], kind
        left = len(everything) - len(listed)
        note = page.locator(f"#dry-run-{kind}-omitted")
        assert note.is_visible(), kind
        assert note.inner_text().startswith(f"… and {left:,} more paths not listed"), kind
        heading = page.locator(f"#dry-run-{kind}-title").inner_text()
        assert heading.endswith(f"({len(everything):,})"), heading
    # No other kind has anything left out.
    assert page.locator("#dry-run .omitted").count() == 2


def test_restore_a_folder_from_an_older_snapshot(
    console_host, allowed_root, restore_root, page, tmp_path
):
    snapped = two_snapshots(console_host, allowed_root, tmp_path)
    page.goto(console_host.url + "/console")
    page.get_by_role("link", name="Snapshots", exact=True).click()
    page.get_by_role("link", name=str(snapped.site.resolve())).click()
    rows = page.locator("#snapshots tbody tr")
    rows.nth(1).wait_for()
    newest = rows.nth(0)
    assert newest.locator("td.added").inner_text() == str(len(snapped.added))
    assert newest.locator("td.changed").inner_text() == str(len(snapped.changed))
    assert newest.locator("td.deleted").inner_text() == str(len(snapped.deleted))
    # Browse the older snapshot: the folder that changed since, opened lazily.
    rows.nth(1).get_by_role("link").click()
    page.locator("#tree tbody tr[data-path='a']").get_by_role("link").click()
    page.locator("#tree tbody tr[data-path='a/x.txt']").wait_for()
    page.get_by_role("button", name="Restore this folder…").click()
    page.get_by_label("Folder inside it (optional)").fill("back")
    page.get_by_role("button", name="Start the restore").click()
    page.wait_for_url(re.compile(r"#/run/restore-[0-9a-f]{32}$"))
    page.locator("#summary .badge:text-is('Completed')").wait_for(timeout=90_000)
    assert page.get_by_role("heading", name=re.compile("Restore into")).is_visible()
    # On disk: exactly the folder, as the first backup saw it (the copy made then).
    target = restore_root / "back"
    restored = {
        p.relative_to(target).as_posix(): p.read_bytes() for p in target.rglob("*") if p.is_file()
    }
    expected = {
        p.relative_to(snapped.before).as_posix(): p.read_bytes()
        for p in (snapped.before / "a").rglob("*")
        if p.is_file()
    }
    assert restored == expected
    files = summary_value(page, "Files")
    assert files.startswith(f"{len(expected)} of {len(expected)} done: {len(expected)} restored")
    assert restored["a/x.txt"] != (snapped.site / "a" / "x.txt").read_bytes()


def test_a_prune_shows_in_the_list_and_says_what_it_dropped(
    console_host, allowed_root, page, tmp_path, storage_connection_string, unique_name
):
    snapped = two_snapshots(console_host, allowed_root, tmp_path)
    answer = http_request(
        "POST",
        console_host.url + "/orchestrators/E2_PruneSnapshots",
        json.dumps({"path": str(snapped.site), "keepLast": 1}),
    )
    assert answer.status == 202, answer.body
    console_host.wait_for_status(answer.json()["id"], {"Completed"}, timeout=90)
    # Independently of the console: one snapshot header is left in the meta container.
    from azure.storage.blob import BlobServiceClient

    meta = BlobServiceClient.from_connection_string(storage_connection_string).get_container_client(
        unique_name + "-meta"
    )
    headers = [n for n in meta.list_blob_names() if "/snapshots/" in n]
    assert len(headers) == 1

    page.goto(console_host.url + "/console#/runs?kind=prune")
    row = page.locator("#runs tbody tr[data-kind='prune']")
    row.wait_for()
    row.get_by_role("link").click()
    prune = page.locator("#prune")
    prune.wait_for()
    assert page.locator("#prune dt:text-is('Snapshots dropped') + dd").inner_text() == "1"
    assert page.locator("#prune dt:text-is('Snapshots kept') + dd").inner_text() == str(
        len(headers)
    )
