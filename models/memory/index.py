"""A `MemoryIndex` over units held in memory: for tests, benches and library use without a database."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

from models.memory.fuzzy import trigrams
from models.memory.units import Unit


class UnitIndex:
    """Units by skeleton and by trigram; a unit added for the same sentence and context replaces the older."""

    def __init__(self, units: Iterable[Unit] = ()) -> None:
        self._units: dict[tuple[str, str, str], Unit] = {}
        self._by_skeleton: dict[str, list[Unit]] = defaultdict(list)
        self._by_trigram: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
        for unit in units:
            self.add(unit)

    def add(self, unit: Unit) -> None:
        key = (unit.normalised, unit.previous, unit.next)
        old = self._units.get(key)
        if old is not None:
            self._by_skeleton[old.skeleton].remove(old)
        self._units[key] = unit
        self._by_skeleton[unit.skeleton].insert(0, unit)
        for gram in trigrams(unit.normalised):
            self._by_trigram[gram].add(key)

    def same_skeleton(self, skeletons: Sequence[str]) -> Mapping[str, Sequence[Unit]]:
        return {key: list(self._by_skeleton[key]) for key in skeletons if self._by_skeleton.get(key)}

    def similar(self, normalised: Sequence[str], limit: int) -> Mapping[str, Sequence[Unit]]:
        out: dict[str, list[Unit]] = {}
        for text in normalised:
            shared: Counter[tuple[str, str, str]] = Counter()
            for gram in trigrams(text):
                shared.update(self._by_trigram.get(gram, ()))
            out[text] = [self._units[key] for key, _ in shared.most_common(limit)]
        return out
