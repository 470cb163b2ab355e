"""`load_engine(spec)`: the one way the server, the CLI, Ray actors and the benchmarks build an engine."""

from __future__ import annotations

import logging

from models.engine import Engine, EngineSpec
from models.marian import MarianEngine

log = logging.getLogger(__name__)

KINDS = ("transformers", "ct2")


def load_engine(spec: EngineSpec) -> Engine:
    """The engine `spec` describes, loaded; raises ModelLoadError with a message a user can act on."""
    if spec.kind not in KINDS:
        raise ValueError(f"unknown engine {spec.kind!r}; choose one of {', '.join(KINDS)}")
    log.info("loading model %s with %s on %s (%s)", spec.model, spec.kind, spec.device, spec.dtype)
    if spec.kind == "ct2":
        from models.ct2 import CT2Engine  # CTranslate2 is an extra: imported only when asked for

        return CT2Engine(spec)
    return MarianEngine(spec)
