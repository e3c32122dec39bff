"""Which storage account the backups go to, and keeping its secrets out of sight."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError

from sitebackup import storage
from sitebackup.errors import ConfigError

SECRET = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0a2V5;"


def test_backup_connection_wins_over_the_app_storage():
    target = storage.resolve_target(
        {"BACKUP_STORAGE_CONNECTION": SECRET, "AzureWebJobsStorage": "UseDevelopmentStorage=true"}
    )
    assert target.source == "BACKUP_STORAGE_CONNECTION" and target.secret == SECRET


def test_falls_back_to_azure_web_jobs_storage():
    target = storage.resolve_target({"AzureWebJobsStorage": "UseDevelopmentStorage=true"})
    assert target.source == "AzureWebJobsStorage"


def test_identity_based_settings():
    target = storage.resolve_target(
        {
            "BACKUP_STORAGE__blobServiceUri": "https://acct.blob.core.windows.net",
            "BACKUP_STORAGE__clientId": "1234",
            "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        }
    )
    assert target.account_url == "https://acct.blob.core.windows.net"
    assert target.client_id == "1234" and target.secret is None
    app = storage.resolve_target(
        {"azurewebjobsstorage__accountName": "other", "AzureWebJobsStorage__credential": "x"}
    )
    assert app.account_url == "https://other.blob.core.windows.net"
    assert app.source == "AzureWebJobsStorage__accountName"


def test_no_storage_configured_says_what_to_set():
    with pytest.raises(ConfigError, match="BACKUP_STORAGE_CONNECTION"):
        storage.resolve_target({})


def test_the_secret_never_shows_in_repr_or_errors():
    target = storage.resolve_target({"BACKUP_STORAGE_CONNECTION": SECRET})
    assert "c2VjcmV0a2V5" not in repr(target)
    broken = storage.StorageTarget(source="BACKUP_STORAGE_CONNECTION", secret="AccountKey=abc;x")
    with pytest.raises(ConfigError) as caught:
        storage.service_client(broken, pool_size=2, single_put_size=1, block_size=1)
    assert "abc" not in str(caught.value) and "BACKUP_STORAGE_CONNECTION" in str(caught.value)


def test_redact_hides_keys_signatures_and_tokens():
    text = "AccountKey=abc+/=;x sig=zzz&se=1 SharedAccessSignature=sv=1&sig=q"
    cleaned = storage.redact(text)
    assert "abc" not in cleaned and "zzz" not in cleaned and "sv=1" not in cleaned


def _http_error(status: int, code: str = "X") -> HttpResponseError:
    error = HttpResponseError(message=f"status {status}")
    error.status_code = status
    error.error_code = code
    return error


@pytest.mark.parametrize(
    ("status", "file_specific"),
    [(400, True), (409, True), (413, True), (403, False), (404, False), (429, False), (503, False)],
)
def test_only_per_blob_client_errors_are_file_specific(status, file_specific):
    assert storage.is_file_specific(_http_error(status)) is file_specific


def test_failures_are_described_without_secrets():
    error = ServiceRequestError("cannot connect to http://h/c/b?sig=SECRETSIG&sv=1")
    failure = storage.failure(error, "uploading 'x'")
    assert "could not be reached" in str(failure)
    assert "SECRETSIG" not in str(failure)
    assert "refused access" in str(storage.failure(_http_error(403, "AuthorizationFailure"), "x"))
