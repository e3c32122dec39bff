"""The server's message, whatever shape its error body has."""

import pytest

from backup_client.api import error_message, find_status_url


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"error": "path '/x' does not exist"}, "path '/x' does not exist"),
        (
            {"Message": "One or more arguments are incorrect", "ExceptionMessage": "bad id"},
            "bad id",
        ),
        ({"Message": "Something went wrong"}, "Something went wrong"),
        ({"error": {"code": "Forbidden", "message": "no access"}}, "no access"),
        ("a JSON string", "a JSON string"),
        ("  plain\n text  ", "plain text"),
        ({"other": 1}, '{"other": 1}'),
    ],
)
def test_message_from_body(body, message):
    assert error_message(400, "Bad Request", body) == message


def test_empty_body_gives_status_line_and_hint():
    assert error_message(401, "Unauthorized", None).startswith(
        "HTTP 401 Unauthorized: the host wants a key; pass it with --code"
    )
    assert error_message(418, "I'm a teapot", "") == "HTTP 418 I'm a teapot"


def test_html_error_pages_are_not_dumped():
    message = error_message(502, "Bad Gateway", "<html><body>nginx</body></html>")
    assert message.startswith("HTTP 502 Bad Gateway")
    assert "<html>" not in message


def test_context_prefix_and_length_limit():
    assert error_message(500, "", {"error": "x"}, "status request") == "status request: x"
    assert len(error_message(400, "", "y" * 10_000)) == 2000


def test_find_status_url_anywhere_in_the_body():
    url = "http://h/runtime/webhooks/durabletask/instances/i"
    assert find_status_url({"error": "running", "statusQueryGetUri": url}) == url
    assert find_status_url({"instance": {"statusQueryGetUri": url}}) == url
    assert find_status_url([{"statusQueryGetUri": url}]) == url
    assert find_status_url({"error": "x"}) is None
