"""Several outputs per sentence from one beam search: how many to ask for, which to keep, the score.

Alternatives are the beam's other finished hypotheses, so they cost no extra decoding steps, only
decoding and returning them. Beams often end in texts that differ in nothing a reader sees (a
token split differently); only distinct texts are kept. The score is the model's own confidence
(mean log-probability per output token, as beam search ranks its hypotheses), not a calibrated
probability.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

DEFAULT_BEAMS = 4  # opus-mt's generation config; used when an engine does not say


def returned_sequences(alternatives: int, beams: int) -> int:
    """Hypotheses per sentence to ask the decoder for: the chosen one and up to `alternatives` more, within the beam."""
    if not alternatives or beams <= 1:
        return 1
    return min(beams, alternatives + 1)


def _same(text: str) -> str:
    return " ".join(text.split())


def distinct_others(chosen: str, candidates: Iterable[str], limit: int) -> tuple[str, ...]:
    """Up to `limit` of `candidates`, best first, each once and none equal to `chosen` (whitespace aside)."""
    seen = {_same(chosen)}
    kept: list[str] = []
    for candidate in candidates:
        if len(kept) >= limit:
            break
        key = _same(candidate)
        if key and key not in seen:
            seen.add(key)
            kept.append(candidate.strip())
    return tuple(kept)


def weighted_score(scores: Sequence[float | None], lengths: Sequence[int]) -> float | None:
    """One score for a sentence translated in several windows: the windows' scores weighted by their length."""
    if not scores or any(score is None for score in scores):
        return None
    weights = [max(1, n) for n in lengths]
    return sum(s * w for s, w in zip(scores, weights, strict=True) if s is not None) / sum(weights)


def greedy_scores(
    model: Any, sequences: torch.Tensor, steps: Sequence[torch.Tensor], eos: int, length_penalty: float
) -> list[float]:
    """Greedy search's length-normalised log-probabilities, computed as beam search reports `sequences_scores`.

    `steps` are the processed logits of each step (`output_scores`); a row's length counts its
    tokens up to and including its first EOS.
    """
    import torch

    transitions = model.compute_transition_scores(sequences, steps, normalize_logits=True)  # (rows, steps)
    generated = sequences[:, -transitions.shape[1] :]
    is_eos = generated == eos
    first = torch.where(is_eos.any(dim=1), is_eos.int().argmax(dim=1) + 1, generated.shape[1])
    keep = torch.arange(generated.shape[1], device=generated.device)[None, :] < first[:, None]
    totals = torch.where(keep, transitions, torch.zeros_like(transitions)).sum(dim=1)
    return (totals / first.to(totals.dtype) ** length_penalty).tolist()
