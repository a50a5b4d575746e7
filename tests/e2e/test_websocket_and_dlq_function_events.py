"""The WebSocket, push fan-out and dead-letter functions invoked with their sample events from events/, as
Lambda would."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select
from websockets.sync.client import connect

from storywink.db.tables import JobRun
from storywink.local.lambda_runtime import LocalLambdaContext
from storywink.local.samples import fifo_sample, load_sample, set_body
from storywink.wiring import container


def test_connect_event_with_a_valid_token_records_the_connection(stack):
    import ws_connect

    event = load_sample("ws_connect.json")
    event["queryStringParameters"]["token"] = stack.mint_token("alice")
    assert ws_connect.handler(event, LocalLambdaContext("WsConnectFunction")) == {"statusCode": 200}
    assert container().require_live().store.connection_user(event["requestContext"]["connectionId"]) == "alice"


def test_connect_event_without_a_valid_token_is_refused(stack):
    import ws_connect

    response = ws_connect.handler(load_sample("ws_connect.json"), LocalLambdaContext("WsConnectFunction"))
    assert response["statusCode"] == 401


def test_subscribe_event_for_a_gone_client_cleans_up(api, stack, sample_photos):
    import ws_connect
    import ws_subscribe

    book = api("alice").make_book(sample_photos[:1])
    connect = load_sample("ws_connect.json")
    connect["queryStringParameters"]["token"] = stack.mint_token("alice")
    ws_connect.handler(connect, LocalLambdaContext("WsConnectFunction"))
    event = load_sample("ws_subscribe.json")
    event["body"] = json.dumps({"action": "subscribe", "bookId": book["id"]})
    # The sample's connection id has no live socket behind it: the push answers 410 Gone.
    assert ws_subscribe.handler(event, LocalLambdaContext("WsSubscribeFunction")) == {"statusCode": 200}
    assert container().require_live().store.connection_user(event["requestContext"]["connectionId"]) is None


def test_disconnect_event_forgets_the_connection(stack):
    import ws_connect
    import ws_disconnect

    connect = load_sample("ws_connect.json")
    connect["queryStringParameters"]["token"] = stack.mint_token("alice")
    ws_connect.handler(connect, LocalLambdaContext("WsConnectFunction"))
    assert ws_disconnect.handler(load_sample("ws_disconnect.json"), LocalLambdaContext("WsDisconnectFunction")) == {
        "statusCode": 200
    }
    assert container().require_live().store.connection_user(connect["requestContext"]["connectionId"]) is None


def test_dead_letter_event_records_the_job_run(api, stack, sample_photos, session):
    import dlq_handler

    book = api("alice").make_book(sample_photos[:1])
    event = load_sample("dlq_handler.json")
    record = event["Records"][0]
    body = json.loads(record["body"])
    body["bookId"] = book["id"]
    set_body(record, json.dumps(body))
    assert dlq_handler.handler(event, LocalLambdaContext("DeadLetterHandlerFunction")) == {"batchItemFailures": []}
    run = session.execute(select(JobRun).where(JobRun.book_id == book["id"])).scalar_one()
    assert (run.step.value, run.status.value, run.error_code) == ("STORY", "DEAD_LETTERED", "Worker.DeadLettered")
    assert run.message_id == record["messageId"]


def test_ping_event_for_a_gone_client_cleans_up(stack):
    import ws_connect
    import ws_subscribe

    connect_event = load_sample("ws_connect.json")
    connect_event["queryStringParameters"]["token"] = stack.mint_token("alice")
    ws_connect.handler(connect_event, LocalLambdaContext("WsConnectFunction"))
    event = load_sample("ws_ping.json")
    # The pong goes to a connection with no live socket behind it: 410 Gone, and the connection is forgotten.
    assert ws_subscribe.handler(event, LocalLambdaContext("WsSubscribeFunction")) == {"statusCode": 200}
    assert container().require_live().store.connection_user(event["requestContext"]["connectionId"]) is None


def test_default_event_for_a_gone_client_cleans_up(stack):
    import ws_connect
    import ws_subscribe

    connect_event = load_sample("ws_connect.json")
    connect_event["queryStringParameters"]["token"] = stack.mint_token("alice")
    ws_connect.handler(connect_event, LocalLambdaContext("WsConnectFunction"))
    event = load_sample("ws_default.json")
    # The error frame goes to a connection with no live socket behind it: 410 Gone, and the connection is forgotten.
    assert ws_subscribe.handler(event, LocalLambdaContext("WsSubscribeFunction")) == {"statusCode": 200}
    assert container().require_live().store.connection_user(event["requestContext"]["connectionId"]) is None


def subscriptions_of(store, book_id: str, timeout: float = 10) -> list:
    """The book's subscriptions, once there are some (a subscription is written just after its snapshot is sent)."""
    deadline = time.monotonic() + timeout
    while not (found := store.subscribers(book_id)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_push_fanout_event_sends_a_subscriber_every_event_after_its_last_seq(api, stack, sample_photos, paused):
    import push_fanout

    book = api("alice").make_finished_book(sample_photos[:1])
    store = container().require_live().store
    # Only this invocation pushes: the stack's own fan-out (the subscribe's catch-up) waits until the end.
    with paused("PushFanoutFunction"), connect(f"{stack.websocket_url}/?token={stack.mint_token('alice')}", open_timeout=10) as socket:
        socket.send(json.dumps({"action": "subscribe", "bookId": book["id"]}))
        final_seq = json.loads(socket.recv(timeout=10))["seq"]
        (subscription,) = subscriptions_of(store, book["id"])
        store.subscribe(subscription.connection_id, "alice", book["id"], 0)  # as if it had seen nothing yet

        event = fifo_sample("push_fanout.json", book["id"], final_seq)
        assert push_fanout.handler(event, LocalLambdaContext("PushFanoutFunction")) == {"batchItemFailures": []}
        seqs = [json.loads(socket.recv(timeout=10))["seq"] for _ in range(final_seq)]
        with pytest.raises(TimeoutError):
            socket.recv(timeout=1)
        assert store.subscription(subscription.connection_id, book["id"]).last_seq == final_seq
    assert seqs == list(range(1, final_seq + 1))
