"""CloudFormation custom resource (every deploy with new code) -> the schema upgraded to head.
Handler: migrate_database.handler."""

from storywink.db.migrate import upgrade_engine
from storywink.db.migration_resource import handle_migration_request
from storywink.observability import log_invocation
from storywink.wiring import container

container()  # settings validated at cold start


@log_invocation
def handler(event: dict, context: object) -> dict:
    database = container().database
    return handle_migration_request(event, context, lambda: upgrade_engine(database.engine))  # type: ignore[arg-type]
