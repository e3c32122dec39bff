"""Include/exclude rules and dry runs through the real path: HTTP start on the local host,
the real durable SDK, the app's activities, a real Azurite.

The expected set of blobs is computed independently: a git repository holding a copy of the
tree, with the same patterns as a .gitignore, asked with ``git check-ignore``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from sitebackup.naming import blob_name
from sitebackup.snapshot_store import SnapshotStore
from tests.e2e.rules.conftest import DEFAULT_EXCLUDES

START = "/orchestrators/E2_BackupSiteContent"

IGNORE_FILE_LINES = ["# site rules", "*.log", "!keep.log", "/build/", "cache/", ".env"]
REQUEST_EXCLUDES = ["drafts/*", "!drafts/publish-me.md", "/secret.txt"]

FILES = [
    "index.html",
    "about/index.html",
    "app.log",
    "keep.log",
    "logs/keep.log",
    "logs/debug.log",
    ".env",
    "config/.env",
    "scratch.tmp",
    "node_modules/lib/index.js",
    "theme/node_modules/dep/x.js",
    "build/bundle.js",
    "src/build/notes.md",
    "cache",  # a file: 'cache/' matches folders only
    "assets/cache/img.bin",
    "drafts/one.md",
    "drafts/publish-me.md",
    "secret.txt",
    "docs/secret.txt",
    "docs/guide.md",
]


def make_tree(root: Path) -> None:
    for index, rel in enumerate(FILES):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"{rel} {index}\n".encode() * (index + 1))
    (root / ".backupignore").write_text("\n".join(IGNORE_FILE_LINES) + "\n")


def git_kept(root: Path, workdir: Path, patterns: list[str]) -> set[str]:
    """The files of ``root`` that git does not ignore with ``patterns`` as its .gitignore."""
    repo = workdir / "git-copy"
    shutil.copytree(root, repo)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".gitignore").write_text("\n".join(patterns) + "\n")
    files = sorted(
        str(path.relative_to(repo)).replace(os.sep, "/")
        for path in repo.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(repo).parts[:1]
    )
    files = [rel for rel in files if rel != ".gitignore"]
    answer = subprocess.run(
        ["git", "-C", str(repo), "check-ignore", "--stdin"],
        input="\n".join(files) + "\n",
        capture_output=True,
        text=True,
    )
    assert answer.returncode in (0, 1), answer.stderr  # 1: nothing ignored
    ignored = set(answer.stdout.splitlines())
    return set(files) - ignored


def account_listing(connection_string: str) -> dict[str, dict[str, str]]:
    """Every blob in every container with its etag: what a write would change."""
    with BlobServiceClient.from_connection_string(connection_string) as service:
        return {
            container.name: {
                blob.name: blob.etag
                for blob in service.get_container_client(container.name).list_blobs()
            }
            for container in service.list_containers()
        }


def run_backup(host, body: dict, timeout: float = 120) -> dict:
    started = host.post_json(START, body)
    final = host.wait_for_status(started["statusQueryGetUri"], timeout=timeout)
    assert final["runtimeStatus"] == "Completed", final
    return final


def stored(connection_string: str, container: str) -> set[str]:
    return set(account_listing(connection_string).get(container, {}))


def test_stored_blobs_are_exactly_what_git_keeps(host, azurite, roots, unique_name, tmp_path):
    site = roots / f"site-{unique_name}"
    make_tree(site)
    expected = git_kept(site, tmp_path, [*DEFAULT_EXCLUDES, *IGNORE_FILE_LINES, *REQUEST_EXCLUDES])
    # The patterns must matter: the tree loses files, and negations keep some back.
    assert {"keep.log", "drafts/publish-me.md", ".backupignore"} <= expected
    assert len(expected) < len(FILES)

    final = run_backup(
        host, {"path": str(site), "container": unique_name, "exclude": REQUEST_EXCLUDES}
    )

    prefix = site.name
    assert stored(azurite.connection_string, unique_name) == {
        blob_name(prefix, rel) for rel in expected
    }
    status = final["customStatus"]
    assert status["filesTotal"] == len(expected)
    rules = status["rules"]
    everything = {*FILES, ".backupignore"}
    # Files under a pruned folder are not counted one by one: the folder counts once.
    pruned = {"node_modules/", "theme/node_modules/", "build/", "assets/cache/"}
    under_pruned = {rel for rel in everything if any(rel.startswith(p) for p in pruned)}
    excluded_files = everything - expected - under_pruned
    assert rules["excludedFiles"] == len(excluded_files)
    assert rules["excludedDirs"] == len(pruned)
    by_pattern = {item["pattern"]: item for item in rules["matched"]}
    assert by_pattern["node_modules/"]["dirs"] == 2
    assert by_pattern["node_modules/"]["source"] == "setting BACKUP_EXCLUDE"
    assert by_pattern["*.log"]["files"] == 2  # app.log, logs/debug.log
    assert by_pattern["*.log"]["source"] == ".backupignore line 2"
    assert by_pattern["drafts/*"]["source"] == "request exclude"


def test_without_the_ignore_file_only_the_setting_and_request_apply(
    host, azurite, roots, unique_name, tmp_path
):
    site = roots / f"site-{unique_name}"
    make_tree(site)
    expected = git_kept(site, tmp_path, [*DEFAULT_EXCLUDES, "*.log"])

    run_backup(
        host,
        {"path": str(site), "container": unique_name, "exclude": ["*.log"], "ignoreFile": False},
    )
    assert stored(azurite.connection_string, unique_name) == {
        blob_name(site.name, rel) for rel in expected
    }


def test_an_include_list_keeps_only_matching_files(host, azurite, roots, unique_name):
    site = roots / f"site-{unique_name}"
    make_tree(site)
    run_backup(
        host,
        {
            "path": str(site),
            "container": unique_name,
            "include": ["*.html", "*.md"],
            "exclude": ["docs/"],
            "ignoreFile": False,
        },
    )
    # Computed from the file list: .html or .md files not under docs/ or node_modules/.
    expected = {
        rel
        for rel in FILES
        if rel.endswith((".html", ".md"))
        and not rel.startswith("docs/")
        and "node_modules/" not in rel
    }
    assert stored(azurite.connection_string, unique_name) == {
        blob_name(site.name, rel) for rel in expected
    }


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"exclude": ["ok", "!"]}, "'!'"),
        ({"include": ["\\"]}, repr("\\")),
        ({"exclude": "*.log"}, "must be a list"),
        ({"dryRun": "yes"}, "'dryRun' must be true or false"),
    ],
)
def test_bad_patterns_are_a_400_naming_the_pattern(host, roots, unique_name, body, named):
    site = roots / f"site-{unique_name}"
    make_tree(site)
    answer = host.request("POST", START, json.dumps({"path": str(site), **body}), timeout=30)
    assert answer.status == 400, answer.body
    assert named in answer.json()["error"], answer.json()


def test_a_bad_line_in_the_ignore_file_is_a_400_naming_file_and_line(host, roots, unique_name):
    site = roots / f"site-{unique_name}"
    make_tree(site)
    (site / ".backupignore").write_text("*.log\n!\n")
    answer = host.request("POST", START, f'{{"path": "{site}"}}', timeout=30)
    assert answer.status == 400, answer.body
    assert ".backupignore line 2: '!'" in answer.json()["error"]
    # The host keeps serving: a good request right after starts and completes.
    (site / ".backupignore").write_text("*.log\n")
    run_backup(host, {"path": str(site), "container": unique_name})


def test_a_dry_run_writes_nothing_and_predicts_the_real_run(host, azurite, roots, unique_name):
    cs = azurite.connection_string
    site = roots / f"site-{unique_name}"
    make_tree(site)
    body = {"path": str(site), "container": unique_name, "exclude": REQUEST_EXCLUDES}

    before = account_listing(cs)
    dry = run_backup(host, {**body, "dryRun": True})
    assert account_listing(cs) == before  # no container, no blob, no meta record
    report = dry["output"]
    assert report["dryRun"] is True
    real = run_backup(host, body)["customStatus"]
    assert report["copy"]["new"]["files"] == real["filesCopied"] == real["filesTotal"]
    assert report["copy"]["new"]["bytes"] == real["bytesCopied"]
    assert report["copy"]["changed"]["files"] == 0
    assert report["skip"]["excluded"]["files"] == real["rules"]["excludedFiles"]
    new_paths = {blob_name(site.name, rel) for rel in report["paths"]["new"]}
    assert new_paths == stored(cs, unique_name)

    assert report["deleted"] is None  # no snapshot before the first run

    # Second round: one file changed, one added, one deleted; the dry run says so and still
    # writes nothing.
    (site / "index.html").write_text("changed content, another size\n")
    (site / "about" / "team.html").write_text("new page\n")
    guide_size = (site / "docs" / "guide.md").stat().st_size
    (site / "docs" / "guide.md").unlink()
    before = account_listing(cs)
    second = run_backup(host, {**body, "dryRun": True})["output"]
    assert account_listing(cs) == before
    assert second["paths"]["changed"] == ["index.html"]
    assert second["paths"]["new"] == ["about/team.html"]
    # What the first real run stored, less what changed or went: the sample is exact here.
    assert sorted(second["paths"]["unchanged"]) == sorted(
        set(report["paths"]["new"]) - {"index.html", "docs/guide.md"}
    )
    assert second["pathsOmitted"] == {"new": 0, "changed": 0, "unchanged": 0, "excluded": 0}
    real = run_backup(host, body)["customStatus"]
    assert (
        real["filesCopied"] == second["copy"]["new"]["files"] + second["copy"]["changed"]["files"]
    )
    assert real["filesSkipped"] == second["skip"]["unchanged"]["files"]
    assert second["deleted"]["files"] == 1 and second["deleted"]["paths"] == ["docs/guide.md"]
    assert second["deleted"]["bytes"] == guide_size and second["deleted"]["pathsOmitted"] == 0
    # The snapshot the real run left records the same deletion.
    with BlobServiceClient.from_connection_string(cs) as service:
        store = SnapshotStore(service.get_container_client("backup-meta"), unique_name, site.name)
        latest = next(store.list())
        assert latest.run_id != second["deleted"]["since"]
        assert store.header(latest).changes.deleted == 1
