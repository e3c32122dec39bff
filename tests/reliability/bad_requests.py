"""Malformed requests a public starter meets, and what each must get: a 4xx with a message.

Paths inside the requests come from a ``Playground``: an allowed root with a real tree, a
plain file, a symlink that escapes the root and a sibling folder whose name starts like the
root (a prefix check instead of a path check lets it through).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

START = "/orchestrators/E2_BackupSiteContent"
WEBHOOKS = "/runtime/webhooks/durabletask"
BOGUS_ID = "no-such-instance-0000"


@dataclass(frozen=True)
class Playground:
    root: Path  # the allowed root (BACKUP_ALLOWED_ROOTS)
    site: Path  # a directory with files inside root
    a_file: Path  # a regular file inside root
    escaping_link: Path  # a symlink inside root pointing outside it
    outside: Path  # a directory outside the allowed root
    lookalike: Path  # a sibling of root whose name starts with root's name


@dataclass(frozen=True)
class BadRequest:
    label: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    statuses: frozenset[int] = frozenset(range(400, 500))
    # The starter explains every refusal; the webhook API answers an unknown instance with
    # an empty 404, as the real host does (the protocol's status table).
    needs_message: bool = True


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


def _webhook(label: str, method: str, path: str, body: bytes | None = None) -> BadRequest:
    return BadRequest(label, method, f"{WEBHOOKS}{path}", body, needs_message=False)


def _start(label: str, body: bytes | None, **kwargs: object) -> BadRequest:
    return BadRequest(label, "POST", START, body, **kwargs)  # type: ignore[arg-type]


def build_playground(base: Path) -> Playground:
    root = base / "allowed"
    site = root / "site"
    (site / "sub").mkdir(parents=True)
    (site / "index.html").write_text("<h1>hi</h1>")
    (site / "sub" / "a.txt").write_text("a")
    a_file = root / "plain.txt"
    a_file.write_text("not a folder")
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("must never be copied")
    escaping_link = root / "escape"
    escaping_link.symlink_to(outside, target_is_directory=True)
    lookalike = base / "allowed-evil"
    lookalike.mkdir()
    (lookalike / "x.txt").write_text("x")
    return Playground(root, site, a_file, escaping_link, outside, lookalike)


def bad_requests(pg: Playground) -> list[BadRequest]:
    """At least 30 requests, each malformed in one way."""
    site = str(pg.site)
    requests = [
        _start("non-JSON body", b"please back up my site"),
        _start("empty body", None),
        _start("empty JSON string", _json("")),
        _start("blank path", _json("   ")),
        _start("JSON null", b"null"),
        _start("JSON number", b"42"),
        _start("JSON boolean", b"true"),
        _start("JSON array", _json([site])),
        _start("object without path", _json({})),
        _start("path is a number", _json({"path": 5})),
        _start("path is a list", _json({"path": [site]})),
        _start("path is an object", _json({"path": {"dir": site}})),
        _start("container is a number", _json({"path": site, "container": 7})),
        _start("container name invalid", _json({"path": site, "container": "Not_A Container!"})),
        _start("prefix is a list", _json({"path": site, "prefix": ["a"]})),
        _start("truncated JSON", b'{"path": "' + site.encode()),
        _start("invalid UTF-8", b'"\xff\xfe\xfd"'),
        _start("deeply nested JSON", b"[" * 100_000 + b"]" * 100_000),
        _start("huge body (16 MiB path)", _json("/" + "x" * (16 << 20))),
        _start("'..' traversal out of the root", _json(f"{pg.site}/../../outside")),
        _start("'..' into a lookalike sibling", _json(f"{pg.root}/../{pg.lookalike.name}")),
        _start("lookalike sibling directly", _json(str(pg.lookalike))),
        _start("symlink escaping the root", _json(str(pg.escaping_link))),
        _start("path outside the allowed roots", _json(str(pg.outside))),
        _start("filesystem root", _json("/")),
        _start("NUL byte in path", _json(f"{site}\u0000/etc")),
        _start("newline in path", _json(f"{site}\n/etc")),
        _start("relative path", _json("site")),
        _start("dot-relative path", _json("./site")),
        _start("home-relative path", _json("~/site")),
        _start("Windows drive path", _json("C:\\inetpub\\wwwroot")),
        _start("a file, not a directory", _json(str(pg.a_file))),
        _start("a directory that does not exist", _json(f"{site}/missing")),
        _start("path longer than any file system allows", _json(site + "/x" * 5000)),
        # json.dumps would refuse these; the raw escape reaches the server as a lone surrogate.
        _start("lone surrogate in path", b'{"path": "' + site.encode() + b'/\\ud800"}'),
        _start("lone surrogate as the whole body", b'"\\udfff"'),
        _start(
            "lone surrogate in prefix",
            b'{"path": "' + site.encode() + b'", "prefix": "a\\ud800b"}',
        ),
        _start("takeOver is not a boolean", _json({"path": site, "takeOver": "yes"})),
        BadRequest("unknown orchestrator", "POST", "/orchestrators/E9_NoSuchThing", _json(site)),
        BadRequest(
            "activity as orchestrator", "POST", "/orchestrators/E2_CopyFileToBlob", _json(site)
        ),
        BadRequest("traversal in the route", "POST", "/orchestrators/..%2F..%2Fetc", _json(site)),
        BadRequest("GET on the starter", "GET", START),
        BadRequest("PUT on the starter", "PUT", START, _json(site)),
        BadRequest("DELETE on the starter", "DELETE", START),
        _webhook("status of a bogus id", "GET", f"/instances/{BOGUS_ID}"),
        _webhook("terminate a bogus id", "POST", f"/instances/{BOGUS_ID}/terminate"),
        _webhook("suspend a bogus id", "POST", f"/instances/{BOGUS_ID}/suspend"),
        _webhook("resume a bogus id", "POST", f"/instances/{BOGUS_ID}/resume"),
        _webhook("rewind a bogus id", "POST", f"/instances/{BOGUS_ID}/rewind"),
        _webhook("restart a bogus id", "POST", f"/instances/{BOGUS_ID}/restart"),
        _webhook(
            "raise an event on a bogus id",
            "POST",
            f"/instances/{BOGUS_ID}/raiseEvent/Go",
            _json({"x": 1}),
        ),
        _webhook("purge a bogus id", "DELETE", f"/instances/{BOGUS_ID}"),
        _webhook("status of an id with control characters", "GET", "/instances/bad%01id%0A"),
        _webhook("status of a 300-character id", "GET", f"/instances/{'x' * 300}"),
        _webhook("start an unknown orchestrator by webhook", "POST", "/orchestrators/E9_Nope"),
        _webhook("PUT on an instance", "PUT", f"/instances/{BOGUS_ID}"),
        BadRequest(
            "garbage continuation token",
            "GET",
            f"{WEBHOOKS}/instances",
            headers={"x-ms-continuation-token": "garbage!!not-a-token"},
        ),
        BadRequest(
            "continuation token that is not UTF-8 JSON",
            "GET",
            f"{WEBHOOKS}/instances",
            headers={"x-ms-continuation-token": "eyJ4Ijo="},
        ),
        BadRequest("huge top", "GET", f"{WEBHOOKS}/instances?top=99999999999999999999999"),
        _webhook("GET on terminate", "GET", f"/instances/{BOGUS_ID}/terminate"),
        _webhook(
            "start with an instance id beginning with @",
            "POST",
            "/orchestrators/E2_BackupSiteContent/@evil",
            _json("/x"),
        ),
        _webhook(
            "start with a slash inside the instance id",
            "POST",
            "/orchestrators/E2_BackupSiteContent/a%2Fb",
            _json("/x"),
        ),
    ]
    return requests
