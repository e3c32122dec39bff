from urllib.parse import parse_qs, urlsplit

import pytest

from backup_client import urls


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_start_url_follows_the_app_route_and_adds_the_key():
    assert urls.start_url("http://127.0.0.1:7071/") == (
        "http://127.0.0.1:7071/orchestrators/E2_BackupSiteContent"
    )
    url = urls.start_url("https://app.azurewebsites.net", code="k/ey=")
    assert url.startswith("https://app.azurewebsites.net/orchestrators/E2_BackupSiteContent?")
    assert query(url) == {"code": ["k/ey="]}


def test_a_url_without_scheme_is_http():
    assert urls.normalize_base("localhost:7071/") == "http://localhost:7071"


def test_instance_and_terminate_urls_quote_the_id():
    base = "http://127.0.0.1:7071"
    assert urls.instance_url(base, "a b/c") == (
        f"{base}/runtime/webhooks/durabletask/instances/a%20b%2Fc"
    )
    url = urls.terminate_url(base, "id1", reason="user & co", code="K")
    assert urlsplit(url).path == "/runtime/webhooks/durabletask/instances/id1/terminate"
    assert query(url) == {"reason": ["user & co"], "code": ["K"]}


def test_a_key_the_url_already_carries_wins():
    url = "https://x/runtime/webhooks/durabletask/instances/i?code=SYSTEM"
    assert query(urls.with_query(url, code="FUNCTION")) == {"code": ["SYSTEM"]}
    assert urls.with_query("http://x/a", code=None) == "http://x/a"


def test_terminate_template_and_status_url_derivation():
    template = "http://h/runtime/webhooks/durabletask/instances/i/terminate?reason={text}&code=S"
    filled = urls.fill_terminate_template(template, "too slow/now")
    assert query(filled) == {"reason": ["too slow/now"], "code": ["S"]}

    status = "http://h/runtime/webhooks/durabletask/instances/i?taskHub=H&code=S"
    derived = urls.terminate_url_from_status_url(status, "r")
    assert urlsplit(derived).path == "/runtime/webhooks/durabletask/instances/i/terminate"
    assert query(derived) == {"taskHub": ["H"], "code": ["S"], "reason": ["r"]}


def test_instance_id_from_status_url():
    url = "http://h/runtime/webhooks/durabletask/instances/a%20b?taskHub=H"
    assert urls.instance_id_from_status_url(url) == "a b"
    assert urls.instance_id_from_status_url("http://h/orchestrators/X") is None


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:7071", True),
        ("http://127.8.9.1", True),
        ("http://localhost:1", True),
        ("http://[::1]:7071", True),
        ("https://app.azurewebsites.net", False),
        ("http://10.0.0.1:7071", False),
    ],
)
def test_is_loopback(url, loopback):
    assert urls.is_loopback(url) is loopback


def test_port_of():
    assert urls.port_of("http://127.0.0.1:7391/x") == 7391
    assert urls.port_of("https://app.azurewebsites.net") == 443
    assert urls.port_of("http://localhost") == 80


def test_redact_hides_only_the_key():
    url = "https://h/x?taskHub=H&code=secret"
    redacted = urls.redact(url)
    assert "secret" not in redacted
    assert query(redacted) == {"taskHub": ["H"], "code": ["***"]}


def test_the_instance_query_keeps_the_status_urls_host_and_query():
    status = "https://app.example/runtime/webhooks/durabletask/instances/backup-1?taskHub=H&code=k"
    query = urls.instances_query_url(status, instanceIdPrefix="backup-1:p", top="500")
    assert query.startswith("https://app.example/runtime/webhooks/durabletask/instances?")
    assert "taskHub=H" in query and "code=k" in query
    assert "instanceIdPrefix=backup-1%3Ap" in query and "top=500" in query
