"""The application's state and its typed dependencies: what route handlers declare they need.

A leaf: routes and compat routers import this module, and it imports none of them, so `app.py`
can import every router at the top and only assemble (full-stack-fastapi-template's `api/deps.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from models.glossary import Terms
from service.auth import require_api_key
from service.compat.usage import Usage
from service.errors import ApiError
from service.jobs.manager import JobManager
from service.memory import Memories
from service.metrics import Metrics
from service.scheduler import Scheduler
from service.settings import Settings


@dataclass
class AppState:
    """What the lifespan builds and the handlers read; `ready` turns true once warmed."""

    settings: Settings
    scheduler: Scheduler | None = None  # owns the engine; every translation goes through it
    ready: bool = False
    draining: bool = False
    jobs: JobManager | None = None  # started by the lifespan
    terms: Terms = field(default_factory=Terms)  # server-wide glossary and keep terms (BITEXT_GLOSSARY_FILE)
    metrics: Metrics = field(default_factory=Metrics)
    deepl_usage: Usage = field(default_factory=Usage)
    memory: Memories | None = None  # translation memories, one per API key (opened on first use)


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.bitext
    return state


def get_scheduler(state: Annotated[AppState, Depends(get_state)]) -> Scheduler:
    """The scheduler once the model is loaded and warmed; a 503 with Retry-After before that."""
    if state.scheduler is None or not state.ready:
        raise ApiError(503, "not_ready", "the model is still loading; retry shortly", headers={"Retry-After": "5"})
    return state.scheduler


def get_jobs(
    state: Annotated[AppState, Depends(get_state)], _: Annotated[Scheduler, Depends(get_scheduler)]
) -> JobManager:
    if state.jobs is None:
        raise ApiError(
            503, "not_ready", "the job runner is still starting; retry shortly", headers={"Retry-After": "5"}
        )
    return state.jobs


def get_memory(state: Annotated[AppState, Depends(get_state)]) -> Memories:
    if state.memory is None:
        raise ApiError(
            503, "not_ready", "the translation memory is not open yet; retry shortly", headers={"Retry-After": "5"}
        )
    return state.memory


StateDep = Annotated[AppState, Depends(get_state)]
SchedulerDep = Annotated[Scheduler, Depends(get_scheduler)]
JobsDep = Annotated[JobManager, Depends(get_jobs)]
MemoryDep = Annotated[Memories, Depends(get_memory)]  # `.store()` opens it: call it off the event loop
OwnerDep = Annotated[str, Depends(require_api_key)]  # "" with keys off, else a hash of the caller's key
