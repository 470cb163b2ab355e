"""The side-by-side page at `/`, its static files, and `POST /v1/export/html` (the standalone file).

The page is a client of the public API like any script: it posts to `/v1/translate` and renders the
JSON; the export endpoint turns that same JSON into the self-contained HTML file. A document in its
own format (the suffixes of `formats.supported()`, passed in the page's config) goes through `/v1/jobs`.

The export's body has one cap, `max_body_bytes`, whether it is declared (Content-Length, checked by
the middleware) or chunked; it is validated, counted and rendered in a worker thread, so a large
export never holds up the event loop (and `/health/live` with it). Rendering is linear in the body
(marks included, however they nest) and runs under the request deadline (504 `deadline_exceeded`)
and stops when the client disconnects, as a translation does.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import ValidationError

from service import formats
from service.auth import require_api_key
from service.body import read_capped
from service.deps import AppState, StateDep
from service.errors import ApiError, error_responses
from service.jobs.readers import ARCHIVE_SUFFIXES, document_suffixes
from service.scheduler import CancelToken
from service.schemas import TranslateResponse
from service.settings import Settings
from service.translation import run_stoppable
from service.web.export import EXPORT_CSP, render_standalone_html
from service.web.layout import FLAG_REASONS
from service.web.render import STATIC_DIR, environment

router = APIRouter(tags=["web"])

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' http: https:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""No inline script or style, no plugin, no framing; images may come from any http(s) host (the article's)."""

_HARDENING = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
PAGE_ALTERNATIVES = 3  # what a beam of 4 can hold besides the chosen translation

_STATIC = {
    "bitext.css": "text/css",
    "page.css": "text/css",
    "reading.css": "text/css",
    "jobs.css": "text/css",
    "edit.css": "text/css",
    "review.css": "text/css",
    "bitext.js": "text/javascript",
    "documents.js": "text/javascript",
    "reading.js": "text/javascript",
    "jobs.js": "text/javascript",
    "edit.js": "text/javascript",
    "review.js": "text/javascript",
    "favicon.svg": "image/svg+xml",
}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def page(state: StateDep) -> HTMLResponse:
    config = {
        "maxChars": state.settings.max_chars,
        "translateUrl": "/v1/translate",
        "exportUrl": "/v1/export/html",
        "flags": FLAG_REASONS,
        "keyRequired": bool(state.settings.api_keys),  # the page then asks for a key (sent as a Bearer header)
        # Other translations from the beam (at most 3, never past the model's beam; none while it loads)
        # and the score under which a sentence is marked as one the model found hard.
        "alternatives": _alternatives(state),
        "lowScore": state.settings.page_low_score,
        # Files the server reads in their own format: the page sends them to /v1/jobs (documents.js).
        "documents": {
            "jobsUrl": "/v1/jobs",
            "suffixes": list(document_suffixes()),
            "layouts": list(formats.LAYOUTS),
            "defaultLayout": formats.DEFAULT_LAYOUT,
        },
        # Archives (and several documents dropped at once) become jobs followed in the jobs panel (jobs.js).
        "jobs": {"url": "/v1/jobs", "archiveSuffixes": list(ARCHIVE_SUFFIXES)},
        # An English sentence edited in the page is stored in the caller's memory (edit.js).
        "memoryUnitsUrl": "/v1/memory/units",
    }
    html = environment().get_template("index.html").render(config=config)
    return HTMLResponse(html, headers={"Content-Security-Policy": PAGE_CSP, **_HARDENING})


def _alternatives(state: AppState) -> int:
    if state.scheduler is None:
        return 0
    beams = state.scheduler.engine.traits.default_beams
    return min(PAGE_ALTERNATIVES, beams) if beams > 1 else 0


@router.get("/static/{name}", include_in_schema=False)
async def static(name: str) -> FileResponse:
    media_type = _STATIC.get(name)
    if media_type is None:
        raise ApiError(404, "not_found", "no such file")
    return FileResponse(STATIC_DIR / name, media_type=media_type, headers={"Cache-Control": "no-cache", **_HARDENING})


@router.get("/favicon.ico", include_in_schema=False)
@router.get("/favicon.svg", include_in_schema=False)
async def favicon() -> FileResponse:
    """The page's icon, one SVG for both names (browsers ask for /favicon.ico on their own)."""
    return FileResponse(
        STATIC_DIR / "favicon.svg",
        media_type="image/svg+xml",
        headers={
            "Cache-Control": "public, max-age=86400",
            "Content-Security-Policy": "default-src 'none'",
            **_HARDENING,
        },
    )


@router.post(
    "/v1/export/html",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}, **error_responses(400, 401, 413, 415, 422, 504)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TranslateResponse"}}},
        }
    },
    summary="A translation's JSON (as /v1/translate returned it) as one self-contained HTML file",
    dependencies=[Depends(require_api_key)],
)
async def export_html(request: Request, state: StateDep) -> HTMLResponse:
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the translation as application/json")
    body = await read_capped(request, state.settings.max_body_bytes)
    # Under the request deadline and stopped when the client leaves, like a translation.
    token = CancelToken()
    html = await run_stoppable(
        _render_export,
        body,
        state.settings,
        token=token,
        deadline=time.monotonic() + state.settings.request_timeout_seconds,
        stopped=lambda: _export_stopped(token),
        client=request,
    )
    headers = {
        "Content-Disposition": 'attachment; filename="translation.html"',
        "Content-Security-Policy": EXPORT_CSP,
        **_HARDENING,
    }
    return HTMLResponse(html, headers=headers)


def _export_stopped(token: CancelToken) -> ApiError:
    if token.cancelled:
        return ApiError(499, "client_closed_request", "the client closed the connection; the export was stopped")
    return ApiError(
        504, "deadline_exceeded", "the export did not finish before the request deadline; export fewer blocks at once"
    )


def _render_export(body: bytes, settings: Settings) -> str:
    """Validate a translation's JSON and render it; blocks and sentences are bounded like a translation's."""
    try:
        document = TranslateResponse.model_validate_json(body)
    except ValidationError as error:
        problems = error.errors(include_input=False)
        if any(problem["type"] == "json_invalid" for problem in problems):
            raise ApiError(400, "invalid_json", "the body is not valid JSON") from None
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in problems[:5])
        raise ApiError(422, "invalid_request", f"not a translation response: {where}") from None
    # A translation within the limits has at most max_sentences sentences and, every block but an image
    # without alt text holding one, no more blocks: the same bound for both.
    limit = settings.max_sentences
    sentences = sum(len(block.sentences) for block in document.blocks)
    if len(document.blocks) > limit or sentences > limit:
        raise ApiError(
            413,
            "too_many_sentences",
            f"the translation has {len(document.blocks)} blocks and {sentences} sentences; the limit is {limit} each",
            limit=limit,
        )
    return render_standalone_html(document.model_dump(mode="json"))
