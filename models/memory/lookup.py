"""A batch of sentences looked up in a memory, tier by tier: context, exact, placeables, fuzzy.

`lookup(use, queries)` asks the index twice at most, whatever the number of sentences: once for
every sentence's skeleton (which finds context, exact and placeables candidates in one go), once
for trigram candidates of the sentences still unmatched. It returns one `Match` or None per query.
"""

from __future__ import annotations

from collections.abc import Sequence

from models.memory.fuzzy import could_reach, score
from models.memory.normalise import normalise, tokens
from models.memory.placeables import skeleton, swap
from models.memory.units import Match, MemoryUse, Query, Tier, Unit
from models.sentences import SentencePlan

CANDIDATES = 8  # trigram candidates re-scored per sentence


def lookup(use: MemoryUse, queries: Sequence[Query]) -> list[Match | None]:
    """The best match of each query (None: nothing at or over the threshold, or no memory in use)."""
    if not use.active or not queries:
        return [None] * len(queries)
    assert use.index is not None
    norms = [normalise(q.source) for q in queries]
    skeletons = [skeleton(n) for n in norms]
    found = use.index.same_skeleton(list(dict.fromkeys(skeletons)))
    matches: list[Match | None] = [
        _same_skeleton(query, norm, found.get(key, ()))
        for query, norm, key in zip(queries, norms, skeletons, strict=True)
    ]
    unmatched = [i for i, m in enumerate(matches) if m is None]
    if unmatched:
        similar = use.index.similar(list(dict.fromkeys(norms[i] for i in unmatched)), CANDIDATES)
        for i in unmatched:
            matches[i] = _fuzzy(norms[i], similar.get(norms[i], ()), use.threshold)
    return matches


def _same_skeleton(query: Query, norm: str, units: Sequence[Unit]) -> Match | None:
    same = [u for u in units if u.normalised == norm]
    previous, following = normalise(query.previous), normalise(query.next)
    for unit in same:  # a unit that knows no neighbours (both "") cannot be a context match
        if (unit.previous or unit.next) and normalise(unit.previous) == previous and normalise(unit.next) == following:
            return Match(Tier.CONTEXT, unit.english, 100, unit)
    if same:  # a unit recorded without context is the general one; then the newest
        best = min(same, key=lambda u: bool(u.previous or u.next))
        return Match(Tier.EXACT, best.english, 100, best)
    for unit in units:
        english = swap(unit.normalised, unit.english, norm)
        if english is not None:
            return Match(Tier.PLACEABLES, english, 100, unit)
    return None


def _fuzzy(norm: str, units: Sequence[Unit], threshold: int) -> Match | None:
    best: Match | None = None
    length = len(tokens(norm))
    for unit in units:
        other = unit.normalised
        if not could_reach(length, len(tokens(other)), threshold):
            continue
        percent = score(norm, other)
        if percent >= threshold and (best is None or percent > best.percent):
            best = Match(Tier.FUZZY, unit.english, percent, unit)
    return best


Position = tuple[int, int]  # (block, sentence) in a plan


def remember(use: MemoryUse, blocks: Sequence[Sequence[SentencePlan]]) -> dict[Position, Match]:
    """Every translatable sentence of a plan looked up at once, each with the translatable sentences
    before and after it in reading order as its context; only the sentences that matched are kept."""
    if not use.active:
        return {}
    positions = [(b, n) for b, block in enumerate(blocks) for n, s in enumerate(block) if s.translate]
    sources = [blocks[b][n].source for b, n in positions]
    queries = [
        Query(source, sources[k - 1] if k else "", sources[k + 1] if k + 1 < len(sources) else "")
        for k, source in enumerate(sources)
    ]
    return {p: m for p, m in zip(positions, lookup(use, queries), strict=True) if m is not None}
