"""One error shape for every refusal: `{"error": {"code", "message", ...}}`, never the input echoed."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from models.batching import BatchTooLargeError
from models.pipeline import DocumentTooLarge
from service.scheduler import Cancelled, DeadlineExceeded, QueueFull, SchedulerClosed


class ApiError(Exception):
    """A refusal the client can act on: an HTTP status, a stable code and a sentence."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers, self.extra = status, code, message, headers, extra


def as_api_error(error: BaseException) -> ApiError | None:
    """The refusal a translation failure means to a client, or None for a bug (a 500).

    The one mapping of the scheduler's and the pipeline's exceptions: the `/v1` handler below and
    the compat routes' own error shapes both use it.
    """
    if isinstance(error, ApiError):
        return error
    if isinstance(error, QueueFull):
        retry = str(error.retry_after)
        return ApiError(
            503, "overloaded", f"the translation queue is full; retry in {retry} s", headers={"Retry-After": retry}
        )
    if isinstance(error, SchedulerClosed):
        return ApiError(
            503, "shutting_down", "the service is shutting down; retry shortly", headers={"Retry-After": "5"}
        )
    if isinstance(error, DeadlineExceeded):
        return ApiError(
            504,
            "deadline_exceeded",
            f"the deadline passed with {error.done} of {error.total} sentences translated; send a shorter text",
            translated=error.done,
            sentences=error.total,
        )
    if isinstance(error, BatchTooLargeError):
        return ApiError(
            503,
            "insufficient_memory",
            "a sentence of this text does not fit in the model's memory even on its own; retry later or shorten it",
            headers={"Retry-After": "30"},
        )
    if isinstance(error, DocumentTooLarge):
        return ApiError(413, "too_many_sentences", str(error), limit=error.limit)
    if isinstance(error, Cancelled):  # nobody reads it: the client closed the connection
        return ApiError(499, "client_closed_request", "the client closed the connection; the request was cancelled")
    return None


TRANSLATION_ERRORS = (QueueFull, SchedulerClosed, DeadlineExceeded, BatchTooLargeError, DocumentTooLarge, Cancelled)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for refusals: always JSON in the error shape, whatever the route returns."""
    schema = {"$ref": "#/components/schemas/ErrorResponse"}
    return {
        status: {"description": "refused; see error.code", "content": {"application/json": {"schema": schema}}}
        for status in statuses
    }


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _validation_message(error: RequestValidationError) -> str:
    """Where and what, without the offending value (it may be a whole article)."""
    parts = []
    for item in error.errors()[:5]:
        location = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        parts.append(f"{location or 'body'}: {item.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(
        error_body(error.code, error.message, **error.extra), status_code=error.status, headers=error.headers
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return error_response(error)

    async def translation_error(_: Request, error: Exception) -> JSONResponse:
        refusal = as_api_error(error)
        assert refusal is not None  # registered for TRANSLATION_ERRORS only
        return error_response(refusal)

    for kind in TRANSLATION_ERRORS:
        app.add_exception_handler(kind, translation_error)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("invalid_request", _validation_message(error)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(error.detail)), status_code=error.status_code, headers=getattr(error, "headers", None)
        )


class ShapedErrorRoute(APIRoute):
    """A route whose refusals take another API's error shape: subclasses set `render` once.

    Handlers just raise (ApiError, or the scheduler's and pipeline's exceptions); the compat
    routers declare how their API spells an error in one place instead of wrapping each body.
    """

    @staticmethod
    def render(error: ApiError) -> Response:
        return error_response(error)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        render = self.render

        async def shaped(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as error:
                refusal = as_api_error(error)
                if refusal is None:
                    raise
                return render(refusal)

        return shaped
