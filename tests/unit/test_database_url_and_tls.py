"""Where a Database connects and what its transport must prove, from the settings and the secret."""

from __future__ import annotations

import json
import ssl

import pytest
from sqlalchemy import make_url

from storywink.config import ConfigurationError, Settings, load_settings
from storywink.db.credentials import resolve_database_url
from storywink.db.engine import Database
from storywink.db.tls import tls_connect_args
from storywink.domain.errors import ServiceUnavailable
from storywink.local.template import load_template, repo_root

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:storywink-db"
PASSWORD = "p@ss:w/rd%?#&="


def settings(**values: object) -> Settings:
    return Settings(**{"DATABASE_URL": None, "DATABASE_SECRET_ARN": None, "DATABASE_CA_FILE": None, **values})


def from_secret(secret: object, **values: object) -> str:
    value = secret if isinstance(secret, str) else json.dumps(secret)
    url = resolve_database_url(settings(DATABASE_SECRET_ARN=ARN, **values), lambda arn, force_fetch=False: value)
    return url.render_as_string(hide_password=False)


def test_a_managed_secret_is_joined_to_the_host_port_and_name_of_the_settings_with_its_password_quoted():
    url = from_secret(
        {"username": "storywink", "password": PASSWORD},
        DATABASE_HOST="proxy.example.internal", DATABASE_PORT=6432, DATABASE_NAME="storywink",
    )

    parsed = make_url(url)
    assert (parsed.drivername, parsed.host, parsed.port, parsed.database) == (
        "postgresql+pg8000", "proxy.example.internal", 6432, "storywink"
    )
    assert (parsed.username, parsed.password) == ("storywink", PASSWORD)


def test_a_secret_that_names_its_server_is_used_where_the_settings_name_none():
    secret = {"username": "app", "password": PASSWORD, "host": "db.example.internal", "port": 6543, "dbname": "books"}

    assert make_url(from_secret(secret)).port == 6543
    assert from_secret(secret).endswith("@db.example.internal:6543/books")
    assert from_secret(secret, DATABASE_HOST="proxy.example.internal", DATABASE_PORT=5432).endswith(
        "@proxy.example.internal:5432/books"
    )


def test_a_managed_secret_without_a_host_in_the_settings_says_which_settings_are_missing():
    with pytest.raises(ServiceUnavailable, match="DATABASE_HOST and DATABASE_NAME") as missing:
        from_secret({"username": "storywink", "password": PASSWORD})

    assert missing.value.code == "DATABASE_NOT_CONFIGURED"


def test_a_secret_may_still_hold_the_url_itself_or_as_json():
    url = "postgresql+pg8000://app:secret@db.example.internal:5432/storywink"

    assert from_secret(url) == from_secret({"url": url}) == url


def test_an_unparsable_url_is_refused_without_repeating_it():
    with pytest.raises(ServiceUnavailable) as refused:
        from_secret("not a url with a password")

    assert "password" not in str(refused.value)


def test_a_unix_socket_gets_no_tls_arguments():
    url = make_url("postgresql+pg8000://postgres@/storywink?unix_sock=/tmp/.s.PGSQL.5432")

    assert tls_connect_args(settings(), url) == {}


@pytest.mark.parametrize("host", ["db.example.internal", "localhost", "127.0.0.1"])
def test_tcp_verifies_the_certificate_and_the_host_name_by_default(host):
    context = tls_connect_args(settings(), make_url(f"postgresql+pg8000://app:secret@{host}/storywink"))["ssl_context"]

    assert isinstance(context, ssl.SSLContext)
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_tls_may_be_disabled_for_a_server_on_this_machine_only():
    local = make_url("postgresql+pg8000://app:secret@[::1]:5432/storywink")
    remote = make_url("postgresql+pg8000://app:secret@db.example.internal/storywink")

    assert tls_connect_args(settings(DATABASE_TLS="disable"), local) == {"ssl_context": False}
    with pytest.raises(ConfigurationError, match="DATABASE_TLS"):
        tls_connect_args(settings(DATABASE_TLS="disable"), remote)


def test_tls_may_be_disabled_for_host_docker_internal_under_sam_local_only():
    docker_host = make_url("postgresql+pg8000://storywink:storywink@host.docker.internal:5432/storywink")

    assert tls_connect_args(settings(DATABASE_TLS="disable", AWS_SAM_LOCAL="true"), docker_host) == {"ssl_context": False}
    with pytest.raises(ConfigurationError, match="DATABASE_TLS"):
        tls_connect_args(settings(DATABASE_TLS="disable"), docker_host)


@pytest.mark.parametrize("host", ["db.example.internal", "docker.internal", "host.docker.internal.example.com", "10.0.0.5"])
def test_under_sam_local_tls_may_still_not_be_disabled_for_any_other_host(host):
    remote = make_url(f"postgresql+pg8000://app:secret@{host}/storywink")

    with pytest.raises(ConfigurationError, match="DATABASE_TLS"):
        tls_connect_args(settings(DATABASE_TLS="disable", AWS_SAM_LOCAL="true"), remote)


def test_no_function_of_the_template_is_told_it_runs_under_sam_local():
    template = load_template(repo_root() / "template.yaml")
    scopes = [template["Globals"]["Function"]] + [
        spec["Properties"] for spec in template["Resources"].values() if spec["Type"] == "AWS::Serverless::Function"
    ]

    assert [scope for scope in scopes if "AWS_SAM_LOCAL" in scope.get("Environment", {}).get("Variables", {})] == []


@pytest.mark.parametrize("blank", ["", "  "])
def test_a_blank_database_tls_is_the_default_verified_tls(blank):
    assert settings(DATABASE_TLS=blank).database_tls == "verify-full"


def test_a_ca_file_that_does_not_exist_fails_the_start_naming_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_CA_FILE", str(tmp_path / "missing.pem"))

    with pytest.raises(ConfigurationError, match="DATABASE_CA_FILE"):
        load_settings()



def test_the_engine_never_shows_bound_values_in_its_errors():
    database = Database(settings(DATABASE_URL="postgresql+pg8000://postgres@/storywink?unix_sock=/tmp/.s.PGSQL.5432"))

    assert database.engine.hide_parameters is True
