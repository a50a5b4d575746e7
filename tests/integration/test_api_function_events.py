"""The API function invoked with the sample HTTP API events in events/, as `sam local invoke` would."""

from __future__ import annotations

import json

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


def test_healthz_event_reports_the_database_ok(api_handler):
    response = api_handler(http_sample("api_healthz.json"), LambdaContext())
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
