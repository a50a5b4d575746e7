"""Every failure, expected or not, answers in the one JSON error shape and never leaks a stack trace."""

from __future__ import annotations

from fastapi.testclient import TestClient

from storywink.api.app import create_app
from storywink.config import Settings
from storywink.domain.errors import Conflict, RateLimited
from storywink.wiring import Container


def new_app():
    return create_app(Container(Settings()))


def app_with(route_error: Exception):
    app = new_app()

    @app.get("/boom")
    def boom():
        raise route_error

    return TestClient(app, raise_server_exceptions=False)


def test_unknown_exception_is_a_generic_500_with_a_request_id():
    response = app_with(RuntimeError("secret internals at 0xdeadbeef")).get("/boom", headers={"X-Request-Id": "req-1"})
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "INTERNAL_ERROR",
            "message": "Something went wrong on our side. Please try again.",
            "requestId": "req-1",
        }
    }
    assert "deadbeef" not in response.text


def test_app_error_keeps_its_code_status_and_details():
    response = app_with(Conflict("Busy.", code="BOOK_BUSY", details={"status": "GENERATING"})).get("/boom")
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["message"], error["details"]) == ("BOOK_BUSY", "Busy.", {"status": "GENERATING"})
    assert error["requestId"] == response.headers["X-Request-Id"]


def test_rate_limit_error_carries_retry_after():
    response = app_with(RateLimited("Slow down.", retry_after_seconds=7)).get("/boom")
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"


def test_unknown_route_is_a_json_404():
    response = TestClient(new_app()).get("/nope")
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


def test_an_unexpected_500_still_carries_the_request_ids_and_the_cors_headers():
    response = app_with(RuntimeError("boom")).get(
        "/boom", headers={"X-Request-Id": "req-9", "X-Correlation-Id": "corr-9", "Origin": "https://app.storywink.example"}
    )
    assert response.status_code == 500
    assert response.json()["error"]["requestId"] == "req-9"
    assert response.headers["X-Request-Id"] == "req-9"
    assert response.headers["X-Correlation-Id"] == "corr-9"
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "https://app.storywink.example")
