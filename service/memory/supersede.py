"""How one write's units supersede the memory's current units and each other, worked out set-wise.

A unit supersedes the current unit for the same sentence in the same context (its `Keys`' normalised
French and context): the older row stops being current and is kept (history). Within one write (an
import), units apply in order, as if added one by one: a second unit for the same sentence and
context supersedes the first, which is stored too, not current. The store reads the current rows
for the whole write in a few queries, takes ids for the new rows up front, and writes the result in
bulk; this module is the pure part between the two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from models.memory import Unit
from service.memory.base import Keys

Place = tuple[str, str]  # (normalised French, context): what a current unit is unique by, per owner


@dataclass(frozen=True, slots=True)
class NewRow:
    """One unit's row as it will be written."""

    id: int
    unit: Unit
    keys: Keys
    supersedes: int | None
    current: bool  # false: a later unit of the same write supersedes it


@dataclass(frozen=True, slots=True)
class Superseding:
    rows: list[NewRow]  # in the write's order, ids rising
    superseded: dict[int, str]  # the ids of stored current rows that stop being current, with their normalised French

    @property
    def current(self) -> list[NewRow]:
        """The new rows that are current after the write (what lookup and the trigram index hold)."""
        return [row for row in self.rows if row.current]


def place(keys: Keys) -> Place:
    return keys.normalised, keys.context


def supersede(units: Sequence[tuple[Unit, Keys]], stored: Mapping[Place, int], ids: Sequence[int]) -> Superseding:
    """The rows of `units` (given `ids` in order) over `stored`, the owner's current row ids by place."""
    if len(ids) != len(units):
        raise ValueError(f"{len(units)} units need as many ids, not {len(ids)}")
    last: dict[Place, int] = {}  # the position of the latest unit per place
    for n, (_, keys) in enumerate(units):
        last[place(keys)] = n
    before: dict[Place, int] = {}  # the id each place's next unit supersedes
    superseded: dict[int, str] = {}
    rows: list[NewRow] = []
    for n, ((unit, keys), ident) in enumerate(zip(units, ids, strict=True)):
        where = place(keys)
        older = before.get(where)
        if older is None and where in stored:
            older = stored[where]
            superseded[older] = keys.normalised
        rows.append(NewRow(ident, unit, keys, older, last[where] == n))
        before[where] = ident
    return Superseding(rows, superseded)
