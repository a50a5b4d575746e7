"""The SQS floor: a bare Powertools SQS handler that imports boto3 and makes one Step Functions call per
record (the task token's success, which Step Functions answers as it answers a stale token)."""

import json

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import ClientError

logger = Logger()
stepfunctions = boto3.client("stepfunctions")


def record_handler(record: SQSRecord) -> None:
    try:
        stepfunctions.send_task_success(taskToken=json.loads(record.body)["taskToken"], output="{}")
    except ClientError as error:
        logger.info("task token no longer waiting", extra={"awsError": error.response["Error"]["Code"]})


@logger.inject_lambda_context
def handler(event: dict, context: object) -> dict:
    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
