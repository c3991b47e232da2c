"""The FastAPI application every service is built from: lifespan (database, bus, relay,
consumers), health and readiness, Prometheus metrics, request ids and problem details."""

from __future__ import annotations

import gc
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AfterValidator
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import MetaData, Table
from starlette.types import ASGIApp, Message as ASGIMessage, Receive, Scope, Send

from kit import metrics
from kit.auth import IdentityCodec
from kit.bus import Bus, RetryPolicy
from kit.bus.kafka import KafkaBus
from kit.bus.local import LocalBus
from kit.consumers import EventConsumer
from kit.db import Database, sqlite_url
from kit.events import EventRegistry
from kit.ids import ID
from kit.inbox import Inbox
from kit.outbox import Outbox
from kit.periodic import PeriodicTask
from kit.problems import PROBLEM_RESPONSES, install_problem_handlers, problem_response
from kit.relay import OutboxRelay
from kit.settings import RuntimeSettings, ServiceSettings

log = structlog.get_logger("kit.app")


def _page_cursor(value: str | None) -> str | None:
    if value is not None and not ID.fullmatch(value):
        raise ValueError("not a next_cursor this list returned (pass it on exactly as it came)")
    return value


# The ``cursor`` of a paginated list (``cursor: Cursor = None``): the id of the previous page's last
# item, as its ``next_cursor`` gave it; anything else is refused rather than read as a position.
Cursor = Annotated[str | None, AfterValidator(_page_cursor),
                   Query(description="the previous page's `next_cursor`; none for the first page")]


@dataclass
class ServiceContext:
    """What a running service holds; routes and consumers reach it through ``app.state.ctx``."""

    name: str
    settings: ServiceSettings
    runtime: RuntimeSettings
    db: Database
    bus: Bus
    outbox: Outbox
    inbox: Inbox
    registry: EventRegistry
    relay: OutboxRelay | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class ServiceSpec:
    """The static description of a service, declared once in its ``app.py``."""

    name: str
    title: str
    description: str
    metadata: MetaData
    outbox: Table
    inbox: Table
    registry: EventRegistry
    settings_class: type[ServiceSettings]
    migrations_dir: Path
    routers: Sequence[APIRouter] = ()
    consumers: Callable[[ServiceContext], list[EventConsumer]] = lambda _ctx: []
    # Builds the service's own collaborators into ctx.extras at start-up.
    on_start: Callable[[ServiceContext], None] = lambda _ctx: None
    # Async start-up work before events flow (e.g. loading an in-memory index from the database).
    on_ready: Callable[[ServiceContext], Awaitable[None]] | None = None
    # Timed jobs (after on_start); they run where settings.run_periodic is on.
    periodic: Callable[[ServiceContext], list[PeriodicTask]] = lambda _ctx: []
    # Async clean-up at shutdown, after the timed jobs stopped (e.g. closing connections it opened).
    on_stop: Callable[[ServiceContext], Awaitable[None]] | None = None
    version: str = "1.0.0"


def identity_codec(runtime: RuntimeSettings) -> IdentityCodec | None:
    """The verifier of the gateway's identity header; without a key every request gets 401."""
    key = runtime.internal_token_key
    if key is None:
        log.warning("no JOBLINK_INTERNAL_TOKEN_KEY: every authenticated request will be refused")
        return None
    return IdentityCodec(key.get_secret_value().encode())


def database_url(spec: ServiceSpec, settings: ServiceSettings, runtime: RuntimeSettings) -> str:
    return settings.database_url or sqlite_url(runtime.var_dir, spec.name)


def make_bus(runtime: RuntimeSettings, client_id: str) -> Bus:
    if runtime.bus == "kafka":
        return KafkaBus(runtime.kafka_bootstrap, client_id, runtime.kafka_partitions,
                        runtime.kafka_session_timeout_ms, runtime.kafka_namespace)
    return LocalBus(str(Path(runtime.var_dir).resolve() / "bus.db"))


def create_service_app(
    spec: ServiceSpec,
    settings: ServiceSettings | None = None,
    runtime: RuntimeSettings | None = None,
    bus: Bus | None = None,
) -> FastAPI:
    """Build a service app. Pass ``bus`` to share one (embedded runtime, tests); it must be started
    by its owner. Without it the app makes and owns one from the runtime settings."""
    settings = settings or spec.settings_class()
    runtime = runtime or RuntimeSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(database_url(spec, settings, runtime), settings.db_pool_size)
        own_bus = bus is None
        the_bus = make_bus(runtime, spec.name) if bus is None else bus
        ctx = ServiceContext(
            name=spec.name,
            settings=settings,
            runtime=runtime,
            db=db,
            bus=the_bus,
            outbox=Outbox(spec.outbox, spec.registry),
            inbox=Inbox(spec.inbox),
            registry=spec.registry,
        )
        app.state.ctx = ctx
        app.state.identity = identity_codec(runtime)
        spec.on_start(ctx)
        if spec.on_ready is not None:
            await spec.on_ready(ctx)
        # What start-up loaded (reference data, models) lives as long as the process: moved out of
        # the collector's generations, so collections during bulk work no longer scan it.
        gc.freeze()
        tasks: list[PeriodicTask] = []
        policy = RetryPolicy(
            settings.consumer_max_attempts, settings.consumer_backoff_s, settings.consumer_backoff_max_s
        )
        try:
            if settings.run_consumers:
                for consumer in spec.consumers(ctx):
                    batch = consumer.handle_batch if settings.consumer_batch else None
                    await the_bus.subscribe(consumer.name, consumer.topics, consumer, policy, batch)
            if own_bus:
                await the_bus.start()
            if settings.run_relay:
                ctx.relay = OutboxRelay(
                    spec.name,
                    db,
                    spec.outbox,
                    the_bus,
                    batch_size=settings.relay_batch_size,
                    poll_interval_s=settings.relay_poll_interval_s,
                )
                db.on_commit(ctx.relay.wake)
                ctx.relay.start()
            if settings.run_periodic:
                tasks = spec.periodic(ctx)
                for task in tasks:
                    task.start()
            log.info("service_started", service=spec.name, bus=type(the_bus).__name__, db=db.dialect)
            yield
        finally:
            for task in tasks:
                await task.stop()
            if spec.on_stop is not None:
                await spec.on_stop(ctx)
            if ctx.relay is not None:
                await ctx.relay.stop()
            if own_bus:
                await the_bus.stop()
            await db.dispose()

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version=spec.version,
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
    )
    install_problem_handlers(app)
    app.add_middleware(RefuseNulMiddleware)
    app.add_middleware(RequestContextMiddleware, service=spec.name)
    app.include_router(_operations_router())
    for router in spec.routers:
        app.include_router(router)
    return app


def _operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/readyz", summary="Readiness: database and event bus reachable")
    async def readyz(request: Request) -> Response:
        ctx: ServiceContext = request.app.state.ctx
        checks: dict[str, str] = {}
        for name, probe in (("database", ctx.db.ping), ("bus", ctx.bus.ping)):
            try:
                await probe()
                checks[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                checks[name] = f"unreachable ({type(exc).__name__})"
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        return problem_response(
            503, "not-ready", "A dependency is unreachable.", title="Not ready", checks=checks
        )

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


class RequestContextMiddleware:
    """Request id (taken from ``X-Request-ID`` or made), bound into logs, echoed back; metrics
    labelled by route template so no id or personal data reaches a label."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, b"x-request-id") or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id, service=self.service)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: ASGIMessage) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            method = scope["method"]
            metrics.HTTP_REQUESTS.labels(self.service, method, template, str(status)).inc()
            metrics.HTTP_LATENCY.labels(self.service, method, template).observe(
                time.perf_counter() - started
            )
            structlog.contextvars.unbind_contextvars("request_id", "service")


class RefuseNulMiddleware:
    """Refuses text holding U+0000 in the query, the path or a JSON body with a 422 problem.

    PostgreSQL cannot store the character in text, so such input would otherwise reach the
    database and fail there (a 500); SQLite would store it. Checking at the door gives the same
    answer on every database. Only JSON bodies are read here (they are small and parsed whole
    anyway); uploads stream through untouched and their rows are checked by the import."""

    # \u0000 in JSON, unless its backslash is itself escaped (an even run of backslashes before)
    _JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = None
        if b"%00" in scope.get("query_string", b"") or b"\x00" in scope.get("query_string", b""):
            where = "query"
        elif b"%00" in scope.get("raw_path", b"") or "\x00" in scope.get("path", ""):
            where = "path"
        elif "json" in (_header_value(scope, b"content-type") or "").lower():
            body, more = b"", True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
            if self._JSON_NUL.search(body) or b"\x00" in body:
                where = "body"
            else:
                receive = _replay(body, receive)
        if where is None:
            await self.app(scope, receive, send)
            return
        response = problem_response(422, "invalid-text", f"The request's {where} holds a NUL character (U+0000), "
                                    "which text cannot contain.", title="Invalid text",
                                    errors=[{"field": where, "message": "text cannot contain NUL (U+0000)"}])
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body already read, then whatever comes next (a disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def again() -> ASGIMessage:
        return pending.pop() if pending else await receive()

    return again


def _header_value(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    """An id-like header: only of a sane shape, so a header cannot inject into logs."""
    text = _header_value(scope, name)
    if text and len(text) <= 64 and all(c.isalnum() or c in "-_." for c in text):
        return text
    return None
