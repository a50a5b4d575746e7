"""A handler's log lines carry its own invocation's Lambda context, and nothing of it outlives the
invocation, though several functions share the process (as in the local stack) and run at once."""

from __future__ import annotations

import threading

from storywink.local.lambda_runtime import LocalLambdaContext
from storywink.observability import log_invocation, log_keys, logger


@log_invocation
def disconnect(event: dict, context: object) -> None:
    logger.info("disconnect handled")


def line(lines: list[dict], message: str) -> dict:
    (found,) = [entry for entry in lines if entry["message"] == message]
    return found


def test_a_handlers_lines_carry_its_functions_context(log_lines):
    context = LocalLambdaContext("WsDisconnectFunction")

    disconnect({}, context)

    entry = line(log_lines, "disconnect handled")
    assert entry["function_name"] == "WsDisconnectFunction"
    assert entry["function_request_id"] == context.aws_request_id
    assert entry["function_arn"] == context.invoked_function_arn


def test_nothing_of_an_invocation_is_left_on_the_lines_after_it(log_lines):
    disconnect({}, LocalLambdaContext("WsDisconnectFunction"))

    logger.info("between invocations")

    entry = line(log_lines, "between invocations")
    assert not {"function_name", "function_request_id", "cold_start"} & set(entry)


def test_each_function_starts_cold_once(log_lines):
    @log_invocation
    def first_of_its_kind(event: dict, context: object) -> None:
        logger.info("invoked")

    for _ in range(2):
        first_of_its_kind({}, LocalLambdaContext("FunctionNeverInvokedBefore"))

    assert [entry["cold_start"] for entry in log_lines if entry["message"] == "invoked"] == [True, False]


def test_functions_running_at_once_on_two_threads_each_log_their_own_context(log_lines):
    both_inside = threading.Barrier(2, timeout=5)

    @log_invocation
    def handler(event: dict, context: object) -> None:
        both_inside.wait()  # the other invocation has set its keys too
        logger.info("handled", extra={"expected": event["function"]})
        both_inside.wait()

    threads = [
        threading.Thread(target=handler, args=({"function": name}, LocalLambdaContext(name)))
        for name in ("ApiFunction", "WsDisconnectFunction")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    handled = [entry for entry in log_lines if entry["message"] == "handled"]
    assert len(handled) == 2
    assert all(entry["function_name"] == entry["expected"] for entry in handled)


def test_a_blocks_keys_go_with_it_and_the_invocations_stay(log_lines):
    @log_invocation
    def worker(event: dict, context: object) -> None:
        with log_keys(bookId="b1"):
            logger.info("in the task")
        logger.info("after the task")

    worker({}, LocalLambdaContext("StoryWorkerFunction"))

    assert line(log_lines, "in the task")["bookId"] == "b1"
    after = line(log_lines, "after the task")
    assert "bookId" not in after and after["function_name"] == "StoryWorkerFunction"


def test_the_correlation_id_comes_from_the_event(log_lines):
    @log_invocation(correlation_id_path="requestContext.requestId")
    def api(event: dict, context: object) -> None:
        logger.info("request")

    api({"requestContext": {"requestId": "KXz1bFjYIAMFkzA="}}, LocalLambdaContext("ApiFunction"))

    assert line(log_lines, "request")["correlation_id"] == "KXz1bFjYIAMFkzA="
