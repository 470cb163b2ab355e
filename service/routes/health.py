"""Liveness (the process answers) and readiness (model loaded, warmed, not draining)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.deps import StateDep
from service.schemas import Health, ModelOut

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live", response_model=Health)
async def live() -> Health:
    return Health(status="ok")


@router.get("/ready", response_model=Health, responses={503: {"model": Health}})
async def ready(state: StateDep) -> JSONResponse:
    if state.draining:
        return JSONResponse(Health(status="draining").model_dump(), status_code=503)
    if not state.ready or state.scheduler is None:
        return JSONResponse(Health(status="loading").model_dump(), status_code=503, headers={"Retry-After": "5"})
    model = ModelOut.model_validate(state.scheduler.engine.info)
    return JSONResponse(Health(status="ok", model=model).model_dump())
