"""The generation options a caller may ask for, checked once for every route that takes them."""

from __future__ import annotations

from models.beams import DEFAULT_BEAMS
from service.deps import AppState
from service.errors import ApiError


def checked_beams(state: AppState, num_beams: int | None) -> int | None:
    """`num_beams` if the settings allow it (`BITEXT_MAX_BEAMS`), else a 422 `invalid_option`."""
    most = state.settings.max_beams
    if num_beams is not None and num_beams > most:
        raise ApiError(422, "invalid_option", f"num_beams may be at most {most}", limit=most)
    return num_beams


def beam_in_force(state: AppState, num_beams: int | None) -> int:
    """The beam that will run: the one asked for, or the model's own (what alternatives are bounded by)."""
    if num_beams:
        return num_beams
    return state.scheduler.engine.traits.default_beams if state.scheduler is not None else DEFAULT_BEAMS
