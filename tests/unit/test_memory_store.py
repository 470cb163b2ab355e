"""Memory stores: superseding keeps history, owners are apart, lookup through the store's index, one-call delete.

The same tests run on SQLite and, with BITEXT_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.memory import MemoryUse, Origin, Query, Tier, Unit, lookup
from service.memory import MemoryStore, OwnedIndex, SqliteMemoryStore
from service.memory.terms import Entry, GlossaryChange, GlossaryMode, GlossaryTooLarge
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


def test_a_glossary_is_replaced_merged_and_deleted_per_owner(store: MemoryStore, owner: str) -> None:
    other = owner + "-other"
    assert store.glossary(owner) is None
    first = store.change_glossary(owner, GlossaryChange((Entry("Poutine", "Putin"), Entry("élus", "officials"))))
    assert (first.name, first.entries, first.created == first.updated) == (
        "glossary",
        (Entry("Poutine", "Putin"), Entry("élus", "officials")),
        True,
    )
    assert store.glossary(owner) == first
    store.change_glossary(other, GlossaryChange((Entry("chat", "cat"),), name="theirs"))
    merge = GlossaryChange((Entry("ÉLUS", "councillors"), Entry("Kremlin", "the Kremlin")), GlossaryMode.MERGE, "news")
    merged = store.change_glossary(owner, merge)
    assert merged.name == "news" and merged.created == first.created
    assert merged.entries == (Entry("Poutine", "Putin"), Entry("ÉLUS", "councillors"), Entry("Kremlin", "the Kremlin"))
    assert store.glossary(owner) == merged
    with pytest.raises(GlossaryTooLarge):
        store.change_glossary(owner, GlossaryChange((Entry("a", "b"),), GlossaryMode.MERGE, limit=3))
    assert store.glossary(owner) == merged  # nothing written
    replaced = store.change_glossary(owner, GlossaryChange((Entry("a", "b"),)))
    assert replaced.entries == (Entry("a", "b"),) and replaced.name == "news"
    assert store.delete_glossary(owner) == 1 and store.glossary(owner) is None
    assert store.delete_glossary(owner) == 0
    glossary = store.glossary(other)
    assert glossary is not None and glossary.terms().glossary == (("chat", "cat"),)
    store.add(other, Unit("Le chat dort.", "The cat sleeps."), other)
    assert store.delete_all(other) == 2 and store.glossary(other) is None  # the glossary goes with the memory


def test_a_memory_file_from_before_glossaries_gains_them(tmp_path: Path, owner: str) -> None:
    path = tmp_path / "memory.sqlite3"
    old = SqliteMemoryStore(path)
    old.add(owner, Unit("Le chat dort.", "The cat sleeps."), owner)
    old.close()
    with sqlite3.connect(path) as db:  # the schema as it was: no glossary tables
        db.execute("DROP TABLE memory_glossaries")
        db.execute("DROP TABLE memory_glossary_entries")
    db.close()
    reopened = SqliteMemoryStore(path)
    try:
        assert [u.unit.english for u in reopened.units(owner)] == ["The cat sleeps."]
        reopened.change_glossary(owner, GlossaryChange((Entry("Poutine", "Putin"),)))
        glossary = reopened.glossary(owner)
        assert glossary is not None and glossary.entries == (Entry("Poutine", "Putin"),)
    finally:
        reopened.close()
