"""Memory stores: superseding keeps history, owners are apart, lookup through the store's index, one-call delete.

The same tests run on SQLite and, with BITEXT_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.memory import MemoryUse, Origin, Query, Tier, Unit, lookup
from service.memory import MemoryStore, OwnedIndex, SqliteMemoryStore
from tests.support.pg import URL_VARIABLE


def _postgres() -> MemoryStore:
    import os

    url = os.environ.get(URL_VARIABLE, "")
    try:
        from service.memory.postgres import PostgresMemoryStore

        if not url:
            raise RuntimeError(f"{URL_VARIABLE} is not set")
        return PostgresMemoryStore(url, connect_timeout=5)
    except Exception as error:  # noqa: BLE001 - any reason the server cannot be used
        if os.environ.get("CI") == "true":
            pytest.fail(f"no PostgreSQL for the memory-store tests: {error}")
        pytest.skip(f"no PostgreSQL for the memory-store tests: {error}")


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MemoryStore]:
    made = SqliteMemoryStore(tmp_path / "memory.sqlite3") if request.param == "sqlite" else _postgres()
    yield made
    made.close()


@pytest.fixture
def owner() -> str:
    return f"owner-{uuid.uuid4().hex}"  # a fresh owner per test: a shared PostgreSQL keeps other tests' rows


def test_a_new_unit_for_the_same_sentence_supersedes_the_old_and_keeps_it(store: MemoryStore, owner: str) -> None:
    first = store.add(owner, Unit("Le chat dort.", "The cat sleeps."), "author-a")
    second = store.add(owner, Unit("le  chat dort.", "The cat is asleep.", origin=Origin.IMPORT), "author-b")
    assert second.supersedes == first.id and second.author == "author-b"
    assert [u.unit.english for u in store.units(owner)] == ["The cat is asleep."]
    # Another context is another unit, not a replacement.
    store.add(owner, Unit("Le chat dort.", "It sleeps.", previous="Il rentre."), "author-a")
    assert len(store.units(owner)) == 2
    found = lookup(MemoryUse(OwnedIndex(store, owner)), [Query("Le chat dort."), Query("Le chat dort.", "Il rentre.")])
    assert [(m.tier, m.english) if m else None for m in found] == [
        (Tier.EXACT, "The cat is asleep."),
        (Tier.CONTEXT, "It sleeps."),
    ]
    assert store.delete_all(owner) == 3  # the superseded row too: history goes with the memory
    assert store.units(owner) == []


def test_owners_do_not_see_each_other(store: MemoryStore, owner: str) -> None:
    other = owner + "-other"
    store.add(owner, Unit("Le conseil a voté le budget.", "The council passed the budget."), owner)
    mine = lookup(MemoryUse(OwnedIndex(store, owner)), [Query("Le conseil a voté le budget.")])
    theirs = lookup(MemoryUse(OwnedIndex(store, other)), [Query("Le conseil a voté le budget.")])
    assert mine[0] is not None and theirs == [None]
    assert store.search(other, "budget") == [] and len(store.search(owner, "BUDGET")) == 1
    store.delete_all(other)
    assert len(store.units(owner)) == 1
    store.delete_all(owner)


def test_fuzzy_candidates_and_placeables_come_through_the_store(store: MemoryStore, owner: str) -> None:
    store.add_many(
        owner,
        [
            Unit("Le maire a présenté le budget de la ville hier soir.", "The mayor presented the budget last night."),
            Unit("Le taux est de 3,5 % cette année.", "The rate is 3.5% this year."),
            *(Unit(f"Phrase de remplissage numéro {k} sans rapport.", f"Filler {k}.") for k in range(50)),
        ],
        owner,
    )
    found = lookup(
        MemoryUse(OwnedIndex(store, owner)),
        [Query("Le maire a présenté le budget de la région hier soir."), Query("Le taux est de 4 % cette année.")],
    )
    assert found[0] is not None and found[0].tier is Tier.FUZZY and found[0].percent == 91
    assert found[1] is not None and found[1].tier is Tier.PLACEABLES and found[1].english == "The rate is 4% this year."
    store.delete_all(owner)


def test_add_many_is_all_or_nothing(store: MemoryStore, owner: str) -> None:
    def units() -> Iterator[Unit]:
        yield Unit("Une phrase.", "A sentence.")
        raise ValueError("the file broke half-way")

    with pytest.raises(ValueError):
        store.add_many(owner, units(), owner)
    assert store.units(owner) == []
