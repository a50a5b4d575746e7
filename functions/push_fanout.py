"""Push fan-out queue (FIFO, one group per book) -> every subscriber of the book brought up to date, or
one new subscription caught up. Handler: push_fanout.handler."""

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response

from storywink.observability import log_invocation, metrics, tracer
from storywink.realtime.fanout import FanoutRecord
from storywink.wiring import container

container()  # settings validated at cold start


@log_invocation
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    live = container().require_live()
    sent: list[int] = []

    def record_handler(record: FanoutRecord) -> None:
        request = record.body
        if request.connection_id:
            sent.append(live.catch_up(request.book_id, request.connection_id))
        else:
            sent.append(live.fan_out(request.book_id, request.seq))

    # A failed record holds back only the later records of its own book (in order, for the retry).
    processor = SqsFifoPartialProcessor(model=FanoutRecord, skip_group_on_error=True)
    response = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    metrics.add_metric(name="PushFramesSent", unit="Count", value=sum(sent))
    return response
