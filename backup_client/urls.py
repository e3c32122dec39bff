"""URLs of the backup app's HTTP API (pure functions, no I/O).

The start URL follows the app's route (``host.json`` sets ``routePrefix`` to ""), the
management URLs follow the Durable Functions webhook API. A function key goes into the query
as ``code=``; a URL that already carries a ``code`` (status URLs the host hands out in Azure
hold the system key) keeps its own.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

ORCHESTRATOR = "E2_BackupSiteContent"
RESTORE_ORCHESTRATOR = "E2_RestoreSnapshot"
PRUNE_ORCHESTRATOR = "E2_PruneSnapshots"
WEBHOOK_BASE = "runtime/webhooks/durabletask"
DEFAULT_URL = "http://127.0.0.1:7071"


def normalize_base(url: str) -> str:
    """The host URL without a trailing slash; ``http://`` is assumed when no scheme is given."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    return url.rstrip("/")


def with_query(url: str, **params: str | None) -> str:
    """``url`` with ``params`` added to its query; ``None`` values and keys it has are skipped."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {key.lower() for key, _ in query}
    for key, value in params.items():
        if value is not None and key.lower() not in present:
            query.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def start_url(base: str, code: str | None = None, orchestrator: str = ORCHESTRATOR) -> str:
    return with_query(f"{normalize_base(base)}/orchestrators/{quote(orchestrator)}", code=code)


def console_url(base: str, instance_id: str | None = None) -> str:
    """The app's web console (the ``Console`` function), on one run when ``instance_id`` is
    given. In Azure it needs the function key too: add ``?code=<key>`` before the ``#``."""
    page = f"{normalize_base(base)}/console"
    return page + (f"#/run/{quote(instance_id, safe='')}" if instance_id else "")


def instance_url(base: str, instance_id: str, code: str | None = None) -> str:
    """Status URL of an instance by id (GET), as the webhook API serves it."""
    path = f"{normalize_base(base)}/{WEBHOOK_BASE}/instances/{quote(instance_id, safe='')}"
    return with_query(path, code=code)


def terminate_url(
    base: str, instance_id: str, reason: str | None = None, code: str | None = None
) -> str:
    url = f"{normalize_base(base)}/{WEBHOOK_BASE}/instances/{quote(instance_id, safe='')}"
    return with_query(f"{url}/terminate", reason=reason, code=code)


def fill_terminate_template(template: str, reason: str) -> str:
    """A ``terminatePostUri`` with its ``{text}`` placeholder replaced by ``reason``."""
    return template.replace("{text}", quote(reason, safe=""))


def terminate_url_from_status_url(status_url: str, reason: str | None = None) -> str:
    """The terminate URL of the instance a status URL points at, keeping its query (key...)."""
    parts = urlsplit(status_url)
    url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/terminate"))
    return with_query(url, reason=reason)


def instances_query_url(status_url: str, **params: str | None) -> str:
    """The instance query (``GET .../instances?...``) of the host a status URL points at,
    keeping its query (task hub, connection, key)."""
    parts = urlsplit(status_url)
    path = parts.path.rstrip("/")
    path = path[: path.rfind("/")] if instance_id_from_status_url(status_url) else path
    return with_query(urlunsplit(parts._replace(path=path)), **params)


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def instance_id_from_status_url(status_url: str) -> str | None:
    """The instance id in a ``.../instances/<id>`` URL, or None when it is not one."""
    segments = urlsplit(status_url).path.rstrip("/").split("/")
    if len(segments) >= 2 and segments[-2] == "instances" and segments[-1]:
        return unquote(segments[-1])
    return None


def is_loopback(url: str) -> bool:
    """True when the URL's host is this machine (127.0.0.0/8, ::1, localhost)."""
    host = urlsplit(normalize_base(url)).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def port_of(url: str) -> int:
    parts = urlsplit(normalize_base(url))
    if parts.port is not None:
        return parts.port
    return 443 if parts.scheme == "https" else 80


def redact(url: str) -> str:
    """The URL with the value of ``code`` hidden, for messages and logs."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (key, "***" if key.lower() == "code" else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*", quote_via=quote)))
