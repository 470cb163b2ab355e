"""`CachedEngine.lookup`: what the scheduler asks before queueing, and how it counts."""

from __future__ import annotations

from models.cache import CachedEngine, MemoryLRU
from models.engine import GenerationOptions
from tests.support.fakes import FakeEngine


def test_lookup_finds_only_what_was_translated_with_the_same_options() -> None:
    engine = FakeEngine()
    cached = CachedEngine(engine, MemoryLRU(100))
    cached.translate(["Il pleut.", "Il neige."], GenerationOptions(num_beams=2))
    found = cached.lookup(["Il neige.", "Il vente.", "Il pleut."], GenerationOptions(num_beams=2))
    assert {i: t.text for i, t in found.items()} == {0: "EN<Il neige.>", 2: "EN<Il pleut.>"}
    assert cached.lookup(["Il pleut."], GenerationOptions(num_beams=4)) == {}
    assert len(engine.calls) == 1  # lookups never reach the engine


def test_lookup_counts_hits_and_translate_counts_the_rest_once() -> None:
    cached = CachedEngine(FakeEngine(), MemoryLRU(100))
    cached.translate(["Un."])
    texts = ["Un.", "Deux.", "Trois."]
    found = cached.lookup(texts)
    cached.translate([t for i, t in enumerate(texts) if i not in found])
    assert (cached.hits, cached.misses) == (1, 3)  # "Un." missed once, then hit once
    assert cached.hit_rate == 0.25


def test_the_lru_bound_evicts_the_least_recently_used() -> None:
    cached = CachedEngine(FakeEngine(), MemoryLRU(2))
    cached.translate(["A.", "B."])
    cached.lookup(["A."])  # A is now the most recent
    cached.translate(["C."])
    assert sorted(t.text for t in cached.lookup(["A.", "B.", "C."]).values()) == ["EN<A.>", "EN<C.>"]
