"""`GET /metrics`: the app's Prometheus registry in the text exposition format.

Behind the API key when keys are set (Prometheus sends it with `authorization: {credentials: KEY}`):
the counts show who uses the service how much, which is not for anyone who asks.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.auth import require_api_key
from service.deps import StateDep

router = APIRouter(tags=["metrics"], dependencies=[Depends(require_api_key)])


@router.get("/metrics", response_class=Response, summary="Prometheus metrics: cache, batching, queue, throughput")
async def metrics(state: StateDep) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
