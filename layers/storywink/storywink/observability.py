"""Logger, tracer and metrics shared by every function; nothing here imports our other modules."""

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "storywink"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace="Storywink")
