"""The API function invoked with the sample HTTP API events in events/, as `sam local invoke` would."""

from __future__ import annotations

import json
import os

import pytest

from storywink.local.samples import http_sample


class LambdaContext:
    function_name = "storywink-dev-ApiFunction"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:storywink-dev-ApiFunction"
    aws_request_id = "b9f8c1a2-0000-4000-8000-000000000001"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


@pytest.fixture
def api_handler(db, issuer):
    import api

    return api.handler


def test_healthz_event_answers_that_the_api_is_up(api_handler):
    response = api_handler(http_sample("api_healthz.json"), LambdaContext())
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ok"}


def test_liveness_asks_nothing_of_the_database_and_readiness_asks_it_once_in_a_while(client, reconfigure):
    database_url = os.environ["DATABASE_URL"]
    reconfigure(DATABASE_URL="postgresql+pg8000://storywink@127.0.0.1:9/storywink", READINESS_CACHE_SECONDS=3600)
    assert client.get("/healthz").json() == {"status": "ok"}  # nothing listens on port 9
    assert client.get("/readyz").status_code == 503
    reconfigure(DATABASE_URL=database_url)  # the real database again, in a fresh container
    assert client.get("/readyz").status_code == 200


def test_readyz_event_reports_the_database_ok(api_handler):
    response = api_handler(http_sample("api_readyz.json"), LambdaContext())
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ok", "database": "ok"}


def test_create_then_list_events_round_trip(api_handler, issuer):
    token = issuer.mint("alice")
    created = api_handler(http_sample("api_create_book.json", token), LambdaContext())
    assert created["statusCode"] == 201, created["body"]
    listed = api_handler(http_sample("api_list_books.json", token), LambdaContext())
    items = json.loads(listed["body"])["items"]
    assert [item["id"] for item in items] == [json.loads(created["body"])["id"]]
    # The request id is API Gateway's, carried into the response.
    assert listed["headers"]["x-request-id"] == "Jk3lQgYbIAMEbyw="


def test_event_without_a_valid_token_gets_the_json_401(api_handler):
    response = api_handler(http_sample("api_list_books.json"), LambdaContext())
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"]["requestId"] == "Jk3lQgYbIAMEbyw="


def emitted_metrics(output: str) -> dict[str, list[float]]:
    """The values of every metric in the EMF lines Powertools printed."""
    values: dict[str, list[float]] = {}
    for line in output.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for definition in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            value = blob[definition["Name"]]
            values.setdefault(definition["Name"], []).extend(value if isinstance(value, list) else [value])
    return values


def test_each_request_is_counted_and_timed_in_the_metrics_the_deployment_rolls_back_on(api_handler, capsys):
    from storywink.observability import metrics

    metrics.clear_metrics()
    capsys.readouterr()
    api_handler(http_sample("api_healthz.json"), LambdaContext())
    emitted = emitted_metrics(capsys.readouterr().out)
    assert emitted["ApiRequests"] == [1.0]
    assert emitted["ApiServerErrors"] == [0.0]
    assert len(emitted["ApiLatency"]) == 1 and emitted["ApiLatency"][0] > 0


def test_a_5xx_answer_counts_as_a_server_error(client, reconfigure):
    from storywink.observability import metrics

    metrics.clear_metrics()
    reconfigure(DATABASE_URL="postgresql+pg8000://storywink@127.0.0.1:9/storywink")
    assert client.get("/readyz").status_code == 503
    assert metrics.metric_set["ApiServerErrors"]["Value"] == [1.0]
    assert metrics.metric_set["ApiRequests"]["Value"] == [1.0]
    metrics.clear_metrics()
