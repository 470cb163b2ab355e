"""`create_app(settings)`: assembles the FastAPI application and runs its lifespan.

Routers, dependencies (service/deps.py) and error handlers live elsewhere; this module only puts
them together and owns start-up and shut-down: load and warm the engine, start the scheduler
that every translation goes through, resume unfinished jobs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from models.budgets import CPU_BUDGET
from models.cache import CachedEngine, MemoryLRU
from models.engine import Engine
from models.factory import load_engine
from models.glossary import Terms, load_terms
from models.parse import MissingDependency, check_dependencies
from service.compat import deepl, libretranslate
from service.deps import AppState
from service.errors import install_error_handlers
from service.jobs.manager import JobManager
from service.memory import Memories
from service.metrics import Metrics
from service.middleware import RequestContextMiddleware
from service.openapi import add_component_schemas
from service.routes import health, job_memory, jobs, memory, metrics, translate, web, xliff
from service.scheduler import Scheduler
from service.schemas import ErrorResponse, StreamEvent, TranslateRequest
from service.settings import Settings

log = logging.getLogger("bitext")


def start_scheduler(settings: Settings, engine: Engine, metrics: Metrics) -> Scheduler:
    """The cache in front of the engine, and the one worker that batches across requests."""
    if settings.cache_entries > 0:
        cached = CachedEngine(engine, MemoryLRU(settings.cache_entries))
        metrics.watch_cache(cached)
        engine, lookup = cached, cached.lookup
    else:
        lookup = None
    budget = settings.budget.resolve(engine.traits.budget or CPU_BUDGET)  # the engine's per-device budget
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
    return scheduler


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The app; pass `engine` to serve an already loaded (or fake) one instead of loading."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state: AppState = app.state.bitext
        memory = state.memory = Memories(settings.jobs_database_url, Path(settings.data_dir), settings.memory_threshold)
        try:  # before the model loads: a broken install stops start-up at once, never ready=True
            await run_in_threadpool(check_dependencies)
        except MissingDependency as error:
            log.error("cannot start: %s", error)
            raise
        loaded: Engine = engine if engine is not None else await run_in_threadpool(load_engine, settings.engine_spec())
        if loaded.traits.load_seconds is not None:
            state.metrics.model_load_seconds.set(loaded.traits.load_seconds)
        if settings.warmup:
            await run_in_threadpool(loaded.warmup)
        state.scheduler = start_scheduler(settings, loaded, state.metrics)
        state.jobs = JobManager(settings, state.scheduler, memory)
        state.jobs.start()  # resumes jobs a crash or restart left unfinished
        state.ready = True
        log.info("ready: %s", loaded.info)
        yield
        state.ready = False
        await run_in_threadpool(state.jobs.stop)
        await run_in_threadpool(state.scheduler.close)
        await run_in_threadpool(memory.close)

    app = FastAPI(
        title="bitext",
        summary="French→English translation with aligned bilingual output",
        version="1.0",
        lifespan=lifespan,
        responses={422: {"description": "invalid request"}},
    )
    terms = load_terms(settings.glossary_file) if settings.glossary_file else Terms()
    app.state.bitext = AppState(settings=settings, terms=terms)
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"], allow_headers=["*"]
        )
    app.add_middleware(
        RequestContextMiddleware, body_limit=lambda path: body_limit(settings, path), metrics=app.state.bitext.metrics
    )
    for router in (
        health.router,
        translate.router,
        web.router,
        jobs.router,
        job_memory.router,
        memory.router,
        xliff.router,
        metrics.router,
    ):
        app.include_router(router)
    app.include_router(libretranslate.router)  # drop-in LibreTranslate shape: /translate, /detect, /languages
    app.include_router(deepl.router)  # drop-in DeepL shape: /v2/translate, /v2/languages, /v2/usage
    add_component_schemas(app, TranslateRequest, ErrorResponse, StreamEvent)
    return app


def body_limit(settings: Settings, path: str) -> int:
    """The largest body a route takes: archives for jobs are far larger than one article."""
    if path.startswith("/v1/jobs"):
        return settings.jobs_max_upload_bytes
    if path in ("/v1/memory/import", "/v1/memory/xliff"):  # a translate answer is larger than its request
        return settings.memory_max_import_bytes
    return settings.max_body_bytes
