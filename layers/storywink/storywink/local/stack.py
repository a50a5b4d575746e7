"""The no-Docker local stack: embedded PostgreSQL, a moto server, the template's resources, in-process
SQS pollers invoking the real handlers, and the API under uvicorn. `storywink dev` runs it in the foreground."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import boto3
import httpx

from storywink.auth.local_issuer import LocalIssuer, load_or_create_issuer
from storywink.local.faithful import api_container, faithful_environment, faithful_parameters
from storywink.local.lambda_runtime import AsInvocations, load_handler
from storywink.local.moto_patches import apply_moto_patches
from storywink.local.moto_process import LISTEN_ADDRESSES
from storywink.local.resources import LocalResources, TemplateProvisioner
from storywink.local.runtime import FaithfulRuntime, FastRuntime
from storywink.local.scheduler import LocalScheduler, OneTimeSchedules, ScheduleTarget
from storywink.local.slo import EmfTap, SloBoard
from storywink.local.sqs_poller import SqsPoller
from storywink.local.template import repo_root

if TYPE_CHECKING:
    from storywink.local.websocket_gateway import LocalWebSocketGateway

REGION = "us-east-1"
LOCAL_ISSUER = "storywink-local"
LOCAL_AUDIENCE = "storywink-api"
STACK_FILE = "stack.json"
FLAGS_FILE = "feature-flags.json"
# Local runs favour quick feedback over cloud-sized waits; everything else is the template's default.
LOCAL_PARAMETERS = {"Environment": "dev", "AllowedOrigins": "*", "TransientRetryIntervalSeconds": "1"}
# Fast mode: every worker thread of every function shares this process's pool.
FAST_POOL = {"DATABASE_POOL_SIZE": "20", "DATABASE_MAX_OVERFLOW": "20"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def refuse_if_taken(host: str, port: int) -> None:
    """Fail at once if ``port`` cannot be listened on (ThreadedMotoServer would wait for it forever)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself binds
        try:
            sock.bind((host, port))
        except OSError as error:
            raise RuntimeError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def default_state_dir() -> Path:
    return repo_root() / ".storywink" / "dev"


@dataclass
class StackOptions:
    state_dir: Path = field(default_factory=default_state_dir)
    # 0: a free port.
    api_port: int = 0
    websocket_port: int = 0
    moto_port: int = 0
    # What the API, the WebSocket gateway and moto listen on (one of LISTEN_ADDRESSES).
    host: str = LISTEN_ADDRESSES[0]
    database_url: str | None = None  # None: embedded PostgreSQL in state_dir
    moto_endpoint: str | None = None  # None: start a moto server in this process
    parameters: dict[str, str] = field(default_factory=dict)
    max_workers_per_queue: int = 4
    # Schedules (rate(1 minute)) run this much faster or slower: 0.05 makes a minute three seconds.
    schedule_time_scale: float = 1.0
    # Cloud-faithful mode (see storywink.local.faithful): the template's concurrency, a container per
    # worker, every timeout of the template times time_scale, and latency-only providers.
    faithful: bool = False
    time_scale: float = 1.0
    extra_environment: dict[str, str] = field(default_factory=dict)
    # False: nothing polls the queues or runs the schedules (a bench invokes the functions itself).
    event_sources: bool = True

    def __post_init__(self) -> None:
        if self.host not in LISTEN_ADDRESSES:
            raise ValueError(f"the local stack listens on one of {', '.join(LISTEN_ADDRESSES)}, not {self.host}")


class LocalStack:
    def __init__(self, options: StackOptions | None = None) -> None:
        self.options = options or StackOptions()
        self.resources: LocalResources | None = None
        self.issuer: LocalIssuer | None = None
        self.pollers: list[SqsPoller] = []
        self.schedulers: dict[str, LocalScheduler] = {}
        self.one_time_schedules: OneTimeSchedules | None = None
        self.runtime: FastRuntime | FaithfulRuntime = FastRuntime()
        self.websocket_gateway: LocalWebSocketGateway | None = None
        self.api_url = ""
        self.websocket_url = ""
        self.moto_endpoint = ""
        self.database_url = ""
        self._postgres: Any = None
        self._moto: Any = None
        self._moto_process: subprocess.Popen[bytes] | None = None
        self._servers: list[tuple[Any, threading.Thread]] = []
        self._stack_file_written = False
        # The session's success metrics, read off the EMF lines the functions print (served at /admin/slo).
        self.slo = SloBoard()
        self._stdout: Any = None
        # The template's feature flags, rewritten at every start; edit it to flip a flag while the stack runs.
        self.flags_file = self.options.state_dir / FLAGS_FILE

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        self.options.state_dir.mkdir(parents=True, exist_ok=True)
        self._stdout, sys.stdout = sys.stdout, EmfTap(sys.stdout, self.slo)
        try:
            self._start_moto()
            self._start_database()
            self._provision()
            if self.options.event_sources:
                self._start_pollers()
                self._start_schedules()
            self._start_websocket_gateway()
            self._start_api()
        except BaseException:
            self.stop()
            raise
        self._write_stack_file()
        return self

    def stop(self) -> None:
        if self._stdout is not None:
            sys.stdout, self._stdout = self._stdout, None
        for poller in self.pollers:
            poller.request_stop()
        for poller in self.pollers:
            poller.join()
        self.pollers = []
        for scheduler in self.schedulers.values():
            scheduler.stop()
        self.schedulers = {}
        if self.one_time_schedules is not None:
            self.one_time_schedules.stop()
            self.one_time_schedules = None
        for server, thread in self._servers:
            server.should_exit = True
            thread.join(timeout=10)
        self._servers = []
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        if self._moto_process is not None:
            self._moto_process.terminate()
            try:
                self._moto_process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._moto_process.kill()
                self._moto_process.wait()
            self._moto_process = None
        if self._postgres is not None:
            self._postgres.stop()
            self._postgres = None
        if self._stack_file_written:  # a start that failed leaves the file of a stack already running alone
            (self.options.state_dir / STACK_FILE).unlink(missing_ok=True)
            self._stack_file_written = False

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ parts
    def _start_moto(self) -> None:
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
                "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
                "AWS_DEFAULT_REGION": REGION,
                "TZ": "UTC",  # moto's Wait states compare against the local clock
            }
        )
        time.tzset()
        apply_moto_patches()
        if self.options.moto_endpoint:
            self.moto_endpoint = self.options.moto_endpoint
        elif self.options.faithful:
            self.moto_endpoint = self._start_moto_process(self.options.moto_port or free_port())
        else:
            from moto.server import ThreadedMotoServer

            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call otherwise

            port = self.options.moto_port or free_port()
            refuse_if_taken(self.options.host, port)
            self._moto = ThreadedMotoServer(ip_address=self.options.host, port=port, verbose=False)
            self._moto.start()
            self.moto_endpoint = f"http://127.0.0.1:{port}"
        # moto's Step Functions engine calls SQS at localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = self.moto_endpoint.rsplit(":", 1)[1]
        os.environ["AWS_ENDPOINT_URL"] = self.moto_endpoint
        httpx.post(
            f"{self.moto_endpoint}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}}
        ).raise_for_status()

    def _start_moto_process(self, port: int) -> str:
        """The faithful mode's moto runs in a process of its own (its own interpreter and core)."""
        self._moto_process = subprocess.Popen(
            [sys.executable, "-m", "storywink.local.moto_process", "--host", self.options.host, "--port", str(port)],
            env={**os.environ, "TZ": "UTC"},
        )
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{endpoint}/moto-api/", timeout=1)
                return endpoint
            except httpx.HTTPError:
                if self._moto_process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto did not start on {endpoint}") from None
                time.sleep(0.1)

    def _start_database(self) -> None:
        from storywink.db import migrate

        if self.options.database_url:
            self.database_url = self.options.database_url
        else:
            from storywink.db.embedded import start_embedded_postgres

            self._postgres = start_embedded_postgres(self.options.state_dir / "pg")
            self.database_url = self._postgres.create_database("storywink")
        migrate.upgrade(self.database_url)

    def _client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.moto_endpoint, region_name=REGION)

    def _provision(self) -> None:
        from storywink.wiring import use_container

        template_path = repo_root() / "template.yaml"
        options = self.options
        local_parameters = faithful_parameters(template_path, options.time_scale) if options.faithful else LOCAL_PARAMETERS
        provisioner = TemplateProvisioner(
            template_path,
            self._client,
            stack_name="storywink-local",
            region=REGION,
            parameters={**local_parameters, **options.parameters},
            time_scale=options.time_scale if options.faithful else 1.0,
        )
        self.resources = provisioner.provision()
        self._code_uri = provisioner.code_uri
        self._handler_of = provisioner.handler_of
        self._timeout_of = provisioner.timeout_of
        self.issuer = load_or_create_issuer(self.options.state_dir / "auth", LOCAL_ISSUER, LOCAL_AUDIENCE)
        self._websocket_port = self.options.websocket_port or free_port()
        self.websocket_url = f"ws://127.0.0.1:{self._websocket_port}"
        # A variable the template declares blank is one only sam local sets: this process keeps its own value
        # (DATABASE_TLS as the developer gave it; DATABASE_URL and AWS_ENDPOINT_URL are set below).
        os.environ.update({name: value for name, value in self.resources.environment.items() if value.strip()})
        os.environ.pop("DATABASE_SECRET_ARN", None)  # locally the URL is given directly
        # AppConfig has no local counterpart (moto lacks appconfigdata): the flags come from a file instead.
        flags = {}
        if self.resources.feature_flags is not None:
            self.flags_file.write_text(self.resources.feature_flags)
            flags["FEATURE_FLAGS_FILE"] = str(self.flags_file)
        os.environ.update(
            {
                # The template declares both blank (for sam local): locally they are the stack's own.
                "DATABASE_URL": self.database_url,
                "AWS_ENDPOINT_URL": self.moto_endpoint,
                "AUTH_JWKS_URL": self.issuer.jwks_url,
                "AUTH_ISSUER": LOCAL_ISSUER,
                "AUTH_AUDIENCE": LOCAL_AUDIENCE,
                # The local WebSocket gateway serves the management API that pushes go through.
                "WEBSOCKET_ENDPOINT": f"http://127.0.0.1:{self._websocket_port}",
                "POWERTOOLS_TRACE_DISABLED": "true",
                **(faithful_environment(options.time_scale) if options.faithful else FAST_POOL),
                **flags,
                **self.options.extra_environment,
            }
        )
        if options.faithful:
            self.runtime = FaithfulRuntime(options.time_scale, self.resources.reserved_concurrency)
        # Every function of this process builds its dependencies afresh from the environment just set.
        use_container(None)

    def _start_pollers(self) -> None:
        assert self.resources is not None
        sqs = self._client("sqs")
        for mapping in self.resources.mappings:
            handler = load_handler(self._code_uri(mapping.function_name), mapping.handler)
            # Faithful: as many environments as the mapping's MaximumConcurrency, like Lambda's poller.
            cap = mapping.maximum_concurrency if self.options.faithful else self.options.max_workers_per_queue
            workers = max(1, min(mapping.maximum_concurrency, cap))
            # Faithful pollers long-poll for 20 s as Lambda's do; the tests' stop within a second.
            wait_seconds = 20 if self.options.faithful else 1
            poller = SqsPoller(mapping, handler, sqs, REGION, workers, self.runtime, wait_seconds)
            poller.start()
            self.pollers.append(poller)

    def _start_schedules(self) -> None:
        assert self.resources is not None
        for schedule in self.resources.schedules:
            handler = load_handler(self._code_uri(schedule.function_name), schedule.handler)
            # Faithful schedules are scaled with everything else (by the provisioner).
            scale = 1.0 if self.options.faithful else self.options.schedule_time_scale
            scheduler = LocalScheduler(schedule, handler, self.runtime, scale)
            scheduler.start()
            self.schedulers[schedule.function_name] = scheduler
        # The one-time schedules the functions make (scheduled starts), fired when due.
        self.one_time_schedules = OneTimeSchedules(
            self._client("scheduler"), list(self.resources.schedule_groups.values()), self._schedule_target, self.runtime
        )
        self.one_time_schedules.start()

    def _schedule_target(self, arn: str) -> ScheduleTarget | None:
        assert self.resources is not None
        function = self.resources.function_arns.get(arn)
        if function is None:
            return None
        handler = load_handler(self._code_uri(function), self._handler_of(function))
        return ScheduleTarget(function, handler, self._timeout_of(function))

    def _start_websocket_gateway(self) -> None:
        from storywink.local.websocket_gateway import LocalWebSocketGateway

        assert self.resources is not None
        routes = {
            route_key: (function, load_handler(self._code_uri(function), self._handler_of(function)))
            for route_key, function in self.resources.websocket_routes.items()
        }
        selection = self.resources.websocket_route_selection.removeprefix("$request.body.")
        self.websocket_gateway = LocalWebSocketGateway(routes, selection_field=selection)
        self._serve(self.websocket_gateway.app(), self._websocket_port, "websocket-gateway")

    def _start_api(self) -> None:
        from fastapi.responses import JSONResponse

        from storywink.api.app import create_app
        from storywink.local.web_app import add_book_page, add_slo_page
        from storywink.wiring import container

        assert self.issuer is not None
        app = create_app(api_container(self.resources) if self.options.faithful else container())
        jwks_path = self.issuer.jwks_path
        app.add_api_route(
            "/.well-known/jwks.json",
            lambda: JSONResponse(json.loads(jwks_path.read_text())),
            methods=["GET"],
            include_in_schema=False,
        )
        port = self.options.api_port or free_port()
        api_url = f"http://127.0.0.1:{port}"
        add_book_page(app, self.issuer, api_url=api_url, websocket_url=self.websocket_url)
        add_slo_page(app, self.slo)
        self._serve(AsInvocations(app, self.resources.http_api_function), port, "api")
        self._app = app
        self.api_url = api_url

    def _serve(self, app: Any, port: int, name: str) -> None:
        """Run an ASGI app under uvicorn on the stack's host in a thread; it stops with the stack."""
        import uvicorn

        host = self.options.host
        server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", access_log=False)
        )
        thread = threading.Thread(target=server.run, name=name, daemon=True)
        thread.start()
        self._servers.append((server, thread))
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"{name} did not start on {host}:{port}")
            time.sleep(0.05)

    def _write_stack_file(self) -> None:
        assert self.resources is not None
        info = {
            "pid": os.getpid(),
            "apiUrl": self.api_url,
            "docsUrl": f"{self.api_url}/docs",
            "websocketUrl": self.websocket_url,
            "jwksUrl": f"{self.api_url}/.well-known/jwks.json",
            "motoEndpoint": self.moto_endpoint,
            "databaseUrl": self.database_url,
            "bucket": os.environ.get("MEDIA_BUCKET"),
            "stateMachineArn": os.environ.get("STATE_MACHINE_ARN"),
            "queues": self.resources.queue_urls,
        }
        (self.options.state_dir / STACK_FILE).write_text(json.dumps(info, indent=2))
        self._stack_file_written = True

    def reconfigure(self, **variables: str | None) -> None:
        """Change environment variables (None removes one) and give every function of the stack a container
        built from them, as a redeploy with new settings would."""
        from storywink.wiring import container, use_container

        for name, value in variables.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        use_container(None)
        self._app.state.container = container()

    def mint_token(self, user_id: str, **claims: Any) -> str:
        assert self.issuer is not None
        return self.issuer.mint(user_id, **claims)


def running_stack_info(state_dir: Path | None = None) -> dict[str, Any] | None:
    """The stack.json of a stack running in another process, if that stack answers."""
    path = (state_dir or default_state_dir()) / STACK_FILE
    if not path.exists():
        return None
    info = json.loads(path.read_text())
    try:
        if httpx.get(f"{info['apiUrl']}/healthz", timeout=2).status_code == 200:
            return info
    except httpx.HTTPError:
        pass
    return None
