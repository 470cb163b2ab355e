"""An interactive request's document through the scheduler, off the event loop.

The one place that turns a parsed document and its options into a bilingual one for a request
handler (`/v1/translate` and the compat routes); batch jobs take a `Scheduler.lane("batch")` and the
CLI an engine, and all of them run the same `translate_document`. Failures propagate as the
scheduler's and the pipeline's own exceptions; `service.errors.as_api_error` maps them once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from starlette.concurrency import run_in_threadpool

from models.document import BilingualDocument, Document
from models.engine import GenerationOptions
from models.pipeline import translate_document
from models.repair import Fidelity
from service.deps import AppState
from service.scheduler import Scheduler


async def translate_interactive(
    state: AppState,
    scheduler: Scheduler,
    document: Document,
    options: GenerationOptions,
    warnings: Sequence[str] = (),
    fidelity: Fidelity = Fidelity(),
    alignment: bool = False,
) -> BilingualDocument:
    """Its sentences queue ahead of batch-job work and give up at the request deadline."""
    settings = state.settings
    lane = scheduler.lane("interactive", time.monotonic() + settings.request_timeout_seconds)
    return await run_in_threadpool(
        translate_document, document, lane, options, warnings, settings.max_sentences, fidelity, alignment
    )
