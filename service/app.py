"""`create_app(settings)`: the FastAPI application, its lifespan and its typed dependencies."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from models.engine import BatchBudget, Engine, load_engine
from service.errors import ApiError, install_error_handlers
from service.middleware import RequestContextMiddleware
from service.openapi import add_component_schemas
from service.schemas import TranslateRequest
from service.settings import Settings
from service.translator import Translator

log = logging.getLogger("bitext")


@dataclass
class AppState:
    """What the lifespan builds and the handlers read; `ready` turns true once warmed."""

    settings: Settings
    translator: Translator | None = None
    ready: bool = False
    draining: bool = False


def build_engine(settings: Settings) -> Engine:
    """The engine the settings describe; raises ModelLoadError with a user-facing message."""
    budget = BatchBudget(max_tokens=settings.batch_max_tokens, max_sentences=settings.batch_max_sentences)
    return load_engine(settings.model, device=settings.device, dtype=settings.dtype, budget=budget, threads=settings.threads)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The app; pass `engine` to serve an already loaded (or fake) one instead of loading."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state: AppState = app.state.bitext
        loaded = engine or await run_in_threadpool(build_engine, settings)
        if settings.warmup and hasattr(loaded, "warmup"):
            await run_in_threadpool(loaded.warmup)
        state.translator = Translator(loaded, settings.max_sentences)
        state.ready = True
        log.info("ready: %s", loaded.info)
        yield
        state.ready = False

    app = FastAPI(
        title="bitext",
        summary="French→English translation with aligned bilingual output",
        version="1.0",
        lifespan=lifespan,
        responses={422: {"description": "invalid request"}},
    )
    app.state.bitext = AppState(settings=settings)
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"], allow_headers=["*"])
    app.add_middleware(RequestContextMiddleware, body_limit=lambda path: body_limit(settings, path))

    from service.routes import health, translate, web

    app.include_router(health.router)
    app.include_router(translate.router)
    app.include_router(web.router)
    add_component_schemas(app, TranslateRequest)
    return app


def body_limit(settings: Settings, path: str) -> int:
    """The largest body a route takes: archives for jobs are far larger than one article."""
    return settings.jobs_max_upload_bytes if path.startswith("/v1/jobs") else settings.max_body_bytes


def get_state(request: Request) -> AppState:
    return request.app.state.bitext


def get_translator(state: Annotated[AppState, Depends(get_state)]) -> Translator:
    if state.translator is None or not state.ready:
        raise ApiError(503, "not_ready", "the model is still loading; retry shortly", headers={"Retry-After": "5"})
    return state.translator


StateDep = Annotated[AppState, Depends(get_state)]
TranslatorDep = Annotated[Translator, Depends(get_translator)]
