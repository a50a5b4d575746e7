"""The worker libraries' floor: the SQS floor's handler plus what a step worker needs from outside this
project, and nothing of ours: a pydantic model of the message, and SQLAlchemy Core on pg8000 opening one
connection and reading the book's row, before the one Step Functions call. No worker built on these
libraries can start faster (see the README's Cold starts)."""

import json
import os

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict
from sqlalchemy import create_engine, text


class Task(BaseModel):
    model_config = ConfigDict(extra="ignore")

    bookId: str
    taskToken: str


logger = Logger()
stepfunctions = boto3.client("stepfunctions")
engine = create_engine(os.environ["DATABASE_URL"], pool_size=1, max_overflow=0)


def record_handler(record: SQSRecord) -> None:
    task = Task.model_validate_json(record.body)
    with engine.begin() as connection:
        connection.execute(text("SELECT status FROM books WHERE id = CAST(:id AS uuid)"), {"id": task.bookId}).first()
    try:
        stepfunctions.send_task_success(taskToken=task.taskToken, output=json.dumps({}))
    except ClientError as error:
        logger.info("task token no longer waiting", extra={"awsError": error.response["Error"]["Code"]})


@logger.inject_lambda_context
def handler(event: dict, context: object) -> dict:
    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
