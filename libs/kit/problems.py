"""RFC 9457 problem details for every error a service returns."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import asyncpg
import sqlalchemy.exc
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from kit.db import unavailable

# The errors ``unavailable`` may recognise, answered by a handler of their own.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sqlalchemy.exc.SQLAlchemyError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://joblink.vn/problems/"
RETRY_AFTER_S = 5  # what a client is told to wait when a database or a service cannot be reached

log = structlog.get_logger("kit.problems")


class Problem(Exception):
    """A domain error to be returned as problem details."""

    def __init__(
        self,
        status: int,
        type_: str,
        detail: str,
        title: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.type = type_
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail
        self.errors = errors
        self.headers = headers
        self.extensions = extensions


INVALID = "The request has invalid fields; see errors."


def invalid(errors: list[dict[str, str]], detail: str = INVALID) -> Problem:
    """A 422 for fields the service's own checks refused, shaped like the request validation's."""
    return Problem(422, "validation-error", detail, title="Invalid request", errors=errors)


def problem_response(
    status: int,
    type_: str,
    detail: str,
    title: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type_ if type_.startswith(("http", "about:")) else TYPE_BASE + type_,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


LOCATIONS = frozenset(("body", "query", "path", "header"))  # where a request's field was, not its name
VALUE_ERROR = "Value error, "  # pydantic's prefix to the message of a validator's ValueError


def field_errors(exc: RequestValidationError | ValidationError, whole: str = "body") -> list[dict[str, str]]:
    """Validation errors as ``{field, message}`` (a request's, or a model's: a CSV row's); an
    error of the whole is the ``whole``'s. The submitted values are never echoed."""
    out = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err.get("loc", ()) if p not in LOCATIONS) or whole
        message = err.get("msg") or "invalid"
        out.append({"field": field, "message": message.removeprefix(VALUE_ERROR)})
    return out


def malformed_json(exc: RequestValidationError) -> str | None:
    """Why a request body is not JSON at all (the parser's reason and where it stopped), if that
    is what the validation error is."""
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            reason = (err.get("ctx") or {}).get("error", "not JSON")
            at = next((p for p in err.get("loc", ()) if isinstance(p, int)), None)
            return f"{reason} (at character {at})" if at is not None else str(reason)
    return None


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status, exc.type, exc.detail, exc.title, exc.errors, exc.headers, **exc.extensions
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        if (reason := malformed_json(exc)) is not None:
            return problem_response(400, "malformed-json", "The request body is not valid JSON.", title="Malformed JSON",
                                    errors=[{"field": "body", "message": reason}])
        return problem_response(422, "validation-error", INVALID, title="Invalid request", errors=field_errors(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        slug = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "-")
        return problem_response(exc.status_code, slug, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, _exc: ClientDisconnect) -> JSONResponse:
        log.info("client_disconnected", path_template=_route_template(request))  # no one reads the answer
        return problem_response(400, "client-disconnected", "The client broke off the request before its end.")

    def _unreachable(request: Request, exc: Exception) -> JSONResponse | None:
        if not unavailable(exc):
            return None
        log.warning("database_unavailable", path_template=_route_template(request), error=repr(exc))
        return unavailable_response()

    async def _database(request: Request, exc: Exception) -> JSONResponse:
        """What a database or network error becomes: a 503 when the database cannot be reached, a
        500 (the handler below) otherwise. Answered here, the request ends like any other; left to
        the handler of last resort, the server would then also close the connection."""
        if (response := _unreachable(request, exc)) is None:
            raise exc
        return response

    for kind in DATABASE_ERRORS:
        app.add_exception_handler(kind, _database)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if (response := _unreachable(request, exc)) is not None:  # raised outside the routes (a middleware)
            return response
        log.exception("unhandled_error", path_template=_route_template(request))
        return problem_response(500, "internal-error", "An unexpected error occurred; it has been logged.")


def unavailable_response() -> JSONResponse:
    return problem_response(503, "database-unavailable", "The service cannot reach its database just now; "
                            "try again shortly.", headers={"Retry-After": str(RETRY_AFTER_S)})


def _route_template(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", "unmatched")


class FieldError(BaseModel):
    field: str
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error of the API is returned."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}

# Documented on every operation: the validation error shape, and problem details for any other
# error status (authentication, authorization, not found, conflicts, rate limits).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": ProblemDetails, "description": "Invalid request", "content": _PROBLEM_CONTENT},
    "default": {"model": ProblemDetails, "description": "Error (problem details)", "content": _PROBLEM_CONTENT},
}
