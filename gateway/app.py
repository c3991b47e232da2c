"""The gateway application: authenticates clients, routes /api/v1 to the owning service, merges
the services' OpenAPI into one Swagger UI.

Distributed, each service is reached over HTTP at its URL. Embedded, the gateway hosts the
service apps itself and reaches them through in-process ASGI transports: same routing, no network.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import structlog
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError

from gateway.api import router as gateway_router
from gateway.clients import ClientRegistry
from gateway.openapi import merge_openapi
from gateway.ratelimit import MemoryBuckets, PostgresBuckets
from gateway.routes import service_for
from gateway.security import Authenticator, GatewaySecurityMiddleware
from gateway.settings import GatewaySettings
from gateway.tokens import ExternalTokens, TokenIssuer, load_or_create_key
from kit.app import RefuseNulMiddleware, RequestContextMiddleware, identity_codec
from kit.bus import Bus
from kit.db import Database, sqlite_url
from kit.problems import PROBLEM_RESPONSES, RETRY_AFTER_S, install_problem_handlers, problem_response
from kit.settings import RuntimeSettings
from reference.api import router as reference_router

log = structlog.get_logger("gateway")

# Hop-by-hop headers (RFC 9110 §7.6.1) and those httpx recomputes are not forwarded.
_HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "content-length",
    }
)
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def create_app(
    settings: GatewaySettings | None = None,
    runtime: RuntimeSettings | None = None,
    hosted: dict[str, FastAPI] | None = None,
    bus: Bus | None = None,
) -> FastAPI:
    """The gateway. ``hosted`` service apps (embedded runtime) are started with it, after ``bus``."""
    settings = settings or GatewaySettings()
    runtime = runtime or RuntimeSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            db = Database(settings.database_url or sqlite_url(runtime.var_dir, "gateway"))
            stack.push_async_callback(db.dispose)
            app.state.db = db
            app.state.clients = ClientRegistry(db)
            key_file = Path(settings.signing_key_file or Path(runtime.var_dir) / "gateway-signing-key.pem")
            app.state.tokens = TokenIssuer(
                load_or_create_key(key_file), settings.token_issuer, settings.token_audience, settings.token_ttl_s
            )
            external = None
            if settings.external_jwks_url:
                jwks_client = await stack.enter_async_context(httpx.AsyncClient())
                external = ExternalTokens(
                    settings.external_jwks_url,
                    settings.external_issuer or "",
                    settings.external_audience or settings.token_audience,
                    jwks_client,
                )
            app.state.authenticator = Authenticator(app.state.tokens, app.state.clients, external)
            app.state.identity = identity_codec(runtime)
            if app.state.identity is None:
                raise RuntimeError("JOBLINK_INTERNAL_TOKEN_KEY is required: the services verify the identity it signs")
            per_second = settings.rate_limit_per_minute / 60
            shared = settings.rate_limit_store == "database" or (
                settings.rate_limit_store == "auto" and db.dialect == "postgresql"
            )
            app.state.buckets = (
                PostgresBuckets(db, settings.rate_limit_burst, per_second)
                if shared
                else MemoryBuckets(settings.rate_limit_burst, per_second)
            )
            await _bootstrap_admin(app, settings)

            if hosted:
                if bus is not None:
                    await bus.start()
                    stack.push_async_callback(bus.stop)
                for service_app in hosted.values():
                    await stack.enter_async_context(service_app.router.lifespan_context(service_app))
                transports: dict[str, httpx.AsyncBaseTransport] = {
                    name: httpx.ASGITransport(app=service_app) for name, service_app in hosted.items()
                }
                bases = {name: f"http://{name}" for name in hosted}
            else:
                transports = {name: httpx.AsyncHTTPTransport(retries=0) for name in settings.service_urls}
                bases = dict(settings.service_urls)
            app.state.upstreams = {
                name: await stack.enter_async_context(
                    httpx.AsyncClient(
                        transport=transports[name],
                        base_url=bases[name],
                        timeout=settings.upstream_timeout_s,
                    )
                )
                for name in bases
            }
            app.state.openapi = None
            yield

    app = FastAPI(
        title="JobLink API",
        description=(
            "Labour-market supply and demand matching for the public employment service of "
            "Hải Phòng: candidates, employers and vacancies, matches, job fairs and invitations.\n\n"
            "Authorize with your client id and secret (OAuth2 client credentials); every call "
            "then carries the token."
        ),
        version="1.0.0",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        responses=PROBLEM_RESPONSES,
    )
    install_problem_handlers(app)
    app.add_middleware(RefuseNulMiddleware)  # inside the security checks: who asks is known first
    app.add_middleware(GatewaySecurityMiddleware, state=app.state)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=_METHODS,
            allow_headers=["authorization", "content-type", "x-request-id"],
        )
    app.add_middleware(RequestContextMiddleware, service="gateway")
    app.include_router(gateway_router)
    app.include_router(reference_router)

    @app.get("/healthz", tags=["operations"], summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", tags=["operations"], summary="Readiness of the gateway and every service")
    async def readyz(request: Request) -> Response:
        upstreams: dict[str, httpx.AsyncClient] = request.app.state.upstreams
        results = await asyncio.gather(*(_probe(c, "/readyz") for c in upstreams.values()))
        services = dict(zip(upstreams, results, strict=True))
        try:
            await request.app.state.db.ping()
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            services["gateway-database"] = f"unreachable ({type(exc).__name__})"
        if all(v == "ready" for v in services.values()):
            return JSONResponse({"status": "ready", "services": services})
        return problem_response(
            503, "not-ready", "A service is not ready.", title="Not ready", services=services
        )

    @app.get("/services/{name}/{probe}", tags=["operations"], summary="A service's health or readiness")
    async def service_probe(name: str, probe: str, request: Request) -> Response:
        upstreams: dict[str, httpx.AsyncClient] = request.app.state.upstreams
        if name not in upstreams or probe not in ("healthz", "readyz"):
            return problem_response(404, "not-found", "No such service probe.")
        upstream = await upstreams[name].get(f"/{probe}")
        return Response(upstream.content, upstream.status_code, media_type=upstream.headers.get("content-type"))

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> JSONResponse:
        if request.app.state.openapi is None:
            docs = await _service_documents(request.app.state.upstreams)
            own = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            merged = merge_openapi(own, docs)
            if len(docs) == len(request.app.state.upstreams):
                request.app.state.openapi = merged  # cache only a complete document
            return JSONResponse(merged)
        return JSONResponse(request.app.state.openapi)

    # Swagger UI's assets ship in a package: the docs work on a machine without internet.
    app.mount("/docs/assets", StaticFiles(directory=str(_swagger_assets())), name="swagger-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="JobLink API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
            init_oauth={"appName": "JobLink Swagger UI"},
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.api_route("/api/v1/{path:path}", methods=_METHODS, include_in_schema=False)
    @app.api_route("/rsvp/{path:path}", methods=["GET", "POST"], include_in_schema=False)
    @app.api_route("/hooks/{path:path}", methods=["POST"], include_in_schema=False)
    async def proxy(request: Request) -> Response:
        service = service_for(request.url.path)
        if service is None:
            return problem_response(404, "not-found", "No resource at this path.")
        limit = settings.max_import_bytes if request.url.path.endswith(":import") else settings.max_body_bytes
        length = int(request.headers.get("content-length") or 0)
        if length > limit:
            return _too_large(limit)
        client: httpx.AsyncClient = request.app.state.upstreams[service]
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["x-request-id"] = structlog.contextvars.get_contextvars().get("request_id", "")
        # The body is streamed through, never held whole here (an import may be a large file).
        if length:
            headers["content-length"] = str(length)
        chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
        body = _Limited(request.stream(), limit) if length or chunked else b""
        # Forward the path exactly as received (still percent-encoded), never a decoded form.
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        try:
            outgoing = client.build_request(
                request.method,
                raw_path.decode("latin-1"),
                params=request.query_params.multi_items(),
                content=body,
                headers=headers,
            )
            upstream = await client.send(outgoing, stream=True)
        except BodyTooLarge:
            return _too_large(limit)
        except httpx.InvalidURL:
            return problem_response(400, "invalid-path", "The request path is not a valid URL path.")
        except httpx.TimeoutException:
            return problem_response(504, "upstream-timeout", f"The {service} service did not answer in time.")
        except httpx.TransportError:
            if isinstance(body, _Limited) and body.exceeded:  # the service hung up on the cut-off body
                return _too_large(limit)
            log.warning("upstream_unreachable", service=service)
            return problem_response(502, "upstream-unreachable",
                                    f"The {service} service is unreachable; try again shortly.",
                                    headers={"Retry-After": str(RETRY_AFTER_S)})
        if isinstance(body, _Limited) and body.exceeded:  # the service answered the cut-off body
            await upstream.aclose()
            return _too_large(limit)
        out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
        out_headers.pop("x-request-id", None)  # the gateway's own middleware sets it
        # Streamed through, so a long import reports its rows as they are committed.
        return StreamingResponse(
            upstream.aiter_raw(), upstream.status_code, headers=out_headers, background=BackgroundTask(upstream.aclose)
        )

    return app


class BodyTooLarge(ClientDisconnect):
    """A body cut off at the limit: to the service behind, the client broke off its request (a
    disconnect, which it handles quietly), whether it runs in this process or behind HTTP."""


class _Limited:
    """A request body passed on as it arrives, cut off once it passes ``limit`` bytes (a body sent
    without a length is only measured on the way); ``exceeded`` tells afterwards."""

    def __init__(self, chunks: AsyncIterator[bytes], limit: int) -> None:
        self.chunks, self.limit, self.exceeded = chunks, limit, False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self.chunks:
            seen += len(chunk)
            if seen > self.limit:
                self.exceeded = True
                raise BodyTooLarge
            yield chunk


def _too_large(limit: int) -> Response:
    return problem_response(413, "payload-too-large", f"The request body is larger than {limit:,} bytes.")


async def _bootstrap_admin(app: FastAPI, settings: GatewaySettings) -> None:
    """The first admin client, from JOBLINK_ADMIN_CLIENT_ID / JOBLINK_ADMIN_CLIENT_SECRET."""
    if not (settings.admin_client_id and settings.admin_client_secret):
        return
    registry: ClientRegistry = app.state.clients
    secret = settings.admin_client_secret.get_secret_value()
    try:
        async with app.state.db.transaction() as session:
            await registry.ensure_admin(session, settings.admin_client_id, secret)
    except IntegrityError:
        # Another replica created it at the same moment; make sure it matches the settings.
        async with app.state.db.transaction() as session:
            await registry.ensure_admin(session, settings.admin_client_id, secret)


def _swagger_assets() -> Path:
    spec = importlib.util.find_spec("fastapi_swagger")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the fastapi-swagger package (Swagger UI files) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "resources"


async def _probe(client: httpx.AsyncClient, path: str) -> str:
    try:
        response = await client.get(path, timeout=5)
    except httpx.HTTPError as exc:
        return f"unreachable ({type(exc).__name__})"
    return "ready" if response.status_code == 200 else f"not ready ({response.status_code})"


async def _service_documents(clients: dict[str, httpx.AsyncClient]) -> dict[str, dict[str, Any]]:
    async def fetch(name: str, client: httpx.AsyncClient) -> tuple[str, dict[str, Any] | None]:
        try:
            response = await client.get("/openapi.json", timeout=5)
            response.raise_for_status()
            return name, response.json()
        except httpx.HTTPError:
            log.warning("openapi_unavailable", service=name)
            return name, None

    results = await asyncio.gather(*(fetch(n, c) for n, c in clients.items()))
    return {name: doc for name, doc in results if doc is not None}
