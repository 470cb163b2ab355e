"""The translation memory's pure part: normalising, placeables, fuzzy scores and lookup in tiers.

No database and no web code: the service's stores (`service.memory`) implement `MemoryIndex`.
"""

from models.memory.fuzzy import DEFAULT_THRESHOLD, score, token_distance, trigrams
from models.memory.index import UnitIndex
from models.memory.lookup import Position, lookup, remember
from models.memory.normalise import normalise, tokens
from models.memory.placeables import placeables, skeleton, swap
from models.memory.units import Match, MemoryIndex, MemoryMode, MemoryUse, Origin, Query, Tier, Unit

__all__ = [
    "DEFAULT_THRESHOLD",
    "Match",
    "MemoryIndex",
    "MemoryMode",
    "MemoryUse",
    "Origin",
    "Position",
    "Query",
    "Tier",
    "Unit",
    "UnitIndex",
    "lookup",
    "normalise",
    "placeables",
    "remember",
    "score",
    "skeleton",
    "swap",
    "token_distance",
    "tokens",
    "trigrams",
]
