"""A translation cache in front of any `Engine`: archives and newsrooms repeat sentences.

The key covers everything that changes the output (model, precision, decoding options, text),
so a cached translation is the one the engine would have produced. Stores are pluggable: an
in-memory LRU for the service, an on-disk store for batch jobs.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import astuple
from typing import Protocol

from models.document import ModelInfo, Translation
from models.engine import PLAIN_CALL, CallControl, DelegatingEngine, Engine, GenerationOptions


class CacheStore(Protocol):
    def get_many(self, keys: Sequence[str]) -> dict[str, Translation]: ...

    def put_many(self, items: Mapping[str, Translation]) -> None: ...


def cache_key(model: ModelInfo, options: GenerationOptions, text: str) -> str:
    """A stable digest of what determines a translation."""
    parts = [*astuple(model), *map(str, astuple(options)), " ".join(text.split())]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


class MemoryLRU:
    """A bounded, thread-safe least-recently-used store."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[str, Translation] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get_many(self, keys: Sequence[str]) -> dict[str, Translation]:
        found: dict[str, Translation] = {}
        with self._lock:
            for key in keys:
                if key in self._items:
                    self._items.move_to_end(key)
                    found[key] = self._items[key]
        return found

    def put_many(self, items: Mapping[str, Translation]) -> None:
        with self._lock:
            for key, value in items.items():
                self._items[key] = value
                self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)


class CachedEngine(DelegatingEngine):
    """An `Engine` that asks its store first and the wrapped engine only for what is missing."""

    def __init__(self, engine: Engine, store: CacheStore) -> None:
        super().__init__(engine)
        self.store = store
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    def lookup(self, texts: Sequence[str], options: GenerationOptions = GenerationOptions()) -> dict[int, Translation]:
        """What the store already holds, by position; counts hits only (a later `translate` counts the rest).

        Lets a scheduler answer cached sentences at once instead of queueing them behind a batch.
        """
        keys = [cache_key(self.engine.info, options, text) for text in texts]
        found = self.store.get_many(keys)
        hits = {index: found[key] for index, key in enumerate(keys) if key in found}
        with self._lock:
            self.hits += len(hits)
        return hits

    def translate(
        self,
        texts: Sequence[str],
        options: GenerationOptions = GenerationOptions(),
        *,
        control: CallControl = PLAIN_CALL,
    ) -> list[Translation]:
        keys = [cache_key(self.engine.info, options, text) for text in texts]
        found = self.store.get_many(keys)
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found:
                missing.setdefault(key, text)
        if missing:
            fresh = self.engine.translate(list(missing.values()), options, control=control)
            computed = dict(zip(missing, fresh, strict=True))
            self.store.put_many(computed)
            found.update(computed)
        with self._lock:
            self.misses += len(missing)
            self.hits += len(texts) - len(missing)
        return [found[key] for key in keys]

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0
