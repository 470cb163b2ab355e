"""`create_app(settings)`: the FastAPI application, its lifespan and its typed dependencies."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from models.cache import CachedEngine, MemoryLRU
from models.engine import BatchBudget, Engine, load_engine
from models.glossary import Terms, load_terms
from models.parse import MissingDependency, check_dependencies
from service.errors import ApiError, install_error_handlers
from service.metrics import Metrics
from service.middleware import RequestContextMiddleware
from service.openapi import add_component_schemas
from service.scheduler import Scheduler
from service.schemas import ErrorResponse, TranslateRequest
from service.settings import Settings
from service.translator import Translator

if TYPE_CHECKING:  # the job manager imports the app's dependencies, so only for type checkers here
    from service.jobs.manager import JobManager

log = logging.getLogger("bitext")


@dataclass
class AppState:
    """What the lifespan builds and the handlers read; `ready` turns true once warmed."""

    settings: Settings
    translator: Translator | None = None
    ready: bool = False
    draining: bool = False
    jobs: JobManager | None = None  # started by the lifespan
    terms: Terms = field(default_factory=Terms)  # server-wide glossary and keep terms (BITEXT_GLOSSARY_FILE)
    metrics: Metrics = field(default_factory=Metrics)
    scheduler: Scheduler | None = None


def build_engine(settings: Settings) -> Engine:
    """The engine the settings describe; raises ModelLoadError with a user-facing message."""
    budget = BatchBudget(settings.batch_max_tokens, settings.batch_max_sentences, settings.batch_max_rows)
    if settings.engine == "ct2":
        from models.ct2 import load_ct2_engine

        return load_ct2_engine(
            settings.model, settings.device, settings.dtype, budget, settings.threads, settings.ct2_inter_threads, settings.ct2_cache_dir
        )
    return load_engine(settings.model, device=settings.device, dtype=settings.dtype, budget=budget, threads=settings.threads)


def start_scheduler(settings: Settings, engine: Engine, metrics: Metrics) -> tuple[Engine, Scheduler]:
    """The cache in front of the engine, and the one worker that batches across requests."""
    if settings.cache_entries > 0:
        cached = CachedEngine(engine, MemoryLRU(settings.cache_entries))
        metrics.watch_cache(cached)
        engine, lookup = cached, cached.lookup
    else:
        lookup = None
    budget = BatchBudget(settings.batch_max_tokens, settings.batch_max_sentences, settings.batch_max_rows)
    scheduler = Scheduler(
        engine,
        budget,
        max_wait=settings.batch_max_wait_ms / 1000,
        max_queue=settings.queue_max_sentences,
        batching=settings.batching,
        metrics=metrics,
        lookup=lookup,
    )
    scheduler.start()
    return engine, scheduler


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The app; pass `engine` to serve an already loaded (or fake) one instead of loading."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state: AppState = app.state.bitext
        try:  # before the model loads: a broken install stops start-up at once, never ready=True
            await run_in_threadpool(check_dependencies)
        except MissingDependency as error:
            log.error("cannot start: %s", error)
            raise
        loaded = engine or await run_in_threadpool(build_engine, settings)
        if isinstance(getattr(loaded, "load_seconds", None), float):
            state.metrics.model_load_seconds.set(loaded.load_seconds)  # type: ignore[attr-defined]
        if settings.warmup and hasattr(loaded, "warmup"):
            await run_in_threadpool(loaded.warmup)
        served, state.scheduler = start_scheduler(settings, loaded, state.metrics)
        state.translator = Translator(served, settings.max_sentences, state.scheduler)
        from service.jobs.manager import JobManager

        state.jobs = JobManager(settings, state.translator)
        state.jobs.start()  # resumes jobs a crash or restart left unfinished
        state.ready = True
        log.info("ready: %s", loaded.info)
        yield
        state.ready = False
        await run_in_threadpool(state.jobs.stop)
        await run_in_threadpool(state.scheduler.close)

    app = FastAPI(
        title="bitext",
        summary="French→English translation with aligned bilingual output",
        version="1.0",
        lifespan=lifespan,
        responses={422: {"description": "invalid request"}},
    )
    app.state.bitext = AppState(settings=settings, terms=load_terms(settings.glossary_file) if settings.glossary_file else Terms())
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"], allow_headers=["*"])
    app.add_middleware(RequestContextMiddleware, body_limit=lambda path: body_limit(settings, path), metrics=app.state.bitext.metrics)

    from service.routes import health, jobs, metrics, translate, web

    app.include_router(health.router)
    app.include_router(translate.router)
    app.include_router(web.router)
    app.include_router(jobs.router)
    app.include_router(metrics.router)
    from service.compat import deepl, libretranslate

    app.include_router(libretranslate.router)  # drop-in LibreTranslate shape: /translate, /detect, /languages
    app.include_router(deepl.router)  # drop-in DeepL shape: /v2/translate, /v2/languages, /v2/usage
    add_component_schemas(app, TranslateRequest, ErrorResponse)
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
