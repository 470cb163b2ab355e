"""Memory stores: superseding keeps history, owners are apart, lookup through the store's index, one-call delete.

The same tests run on SQLite and, with BITEXT_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from models.memory import MemoryUse, Origin, Query, Tier, Unit, lookup
from service.memory import MemoryStore, OwnedIndex, SqliteMemoryStore
from service.memory.terms import Entry, GlossaryChange, GlossaryMode, GlossaryTooLarge
from tests.support.pg import URL_VARIABLE
from tests.support.timing import assert_doubling_is_linear


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


def test_an_import_supersedes_stored_units_and_its_own_repeats_in_order(store: MemoryStore, owner: str) -> None:
    """One import writes set-wise, yet as if its units were added one by one: a repeat within the file
    supersedes the earlier one (kept, not current), which superseded the stored unit (kept too)."""
    first = store.add(owner, Unit("Le chat dort.", "v1"), owner)
    imported = [
        Unit("le  chat dort.", "v2", origin=Origin.IMPORT),
        Unit("Une autre phrase.", "Another sentence.", origin=Origin.IMPORT),
        Unit("Le chat dort.", "In context.", previous="Il rentre.", origin=Origin.IMPORT),
        Unit("Le chat dort !", "Not the same sentence.", origin=Origin.IMPORT),
        Unit("LE CHAT DORT.", "v3", origin=Origin.IMPORT),
    ]
    assert store.add_many(owner, imported, "importer") == 5
    current = store.units(owner)
    assert [u.unit.english for u in current] == ["Another sentence.", "In context.", "Not the same sentence.", "v3"]
    v3 = current[-1]
    assert v3.author == "importer" and v3.supersedes is not None and v3.supersedes > first.id
    assert all(u.supersedes is None for u in current[:-1])
    assert all(u.id > first.id for u in current) and [u.id for u in current] == sorted(u.id for u in current)
    found = lookup(MemoryUse(OwnedIndex(store, owner)), [Query("Le chat dort."), Query("Le chat dort.", "Il rentre.")])
    assert [(m.tier, m.english) if m else None for m in found] == [(Tier.EXACT, "v3"), (Tier.CONTEXT, "In context.")]
    # A second import of the same units supersedes each current one once more; history grows, nothing is lost.
    assert store.add_many(owner, imported, "importer") == 5
    assert [u.unit.english for u in store.units(owner)] == [u.english for u in imported[1:]]
    assert store.delete_all(owner) == 11  # the first unit and both imports, superseded rows included


def test_an_empty_import_stores_nothing(store: MemoryStore, owner: str) -> None:
    assert store.add_many(owner, [], owner) == 0
    assert store.units(owner) == []


def _filler(count: int, salt: str) -> list[Unit]:
    return [
        Unit(f"La phrase {salt} numéro {k} parle du budget {k * 7919 % 100_003} de la commune.", f"Sentence {k}.")
        for k in range(count)
    ]


def test_an_import_takes_linear_time(store: MemoryStore) -> None:
    """Importing twice as many units (new ones, then the same again, each superseding) and deleting them
    takes at most ~2.5x the time: nothing is looked up per unit against everything written before it
    (PostgreSQL once deleted in quadratic time: each row's ON DELETE scanned the table for `supersedes`)."""

    def make(n: int) -> Callable[[], object]:
        units = _filler(n, str(n))

        def run() -> None:
            owner = f"owner-{uuid.uuid4().hex}"
            store.add_many(owner, units, owner)
            store.add_many(owner, units, owner)
            store.delete_all(owner)

        return run

    assert_doubling_is_linear(make, 600, budget=30.0)


def test_sqlite_trigram_index_matches_the_current_units_after_bulk_writes(tmp_path: Path) -> None:
    """After imports that supersede stored units and their own repeats, the FTS5 table holds exactly the
    current units and each trigram's count is the number of current units holding it."""
    from models.memory import normalise, trigrams

    store = SqliteMemoryStore(tmp_path / "memory.sqlite3")
    units = _filler(300, "a")
    store.add_many("a", units[:200], "a")
    store.add_many("a", [*units[100:], *units[150:250]], "a")  # supersedes 100 stored units; 100 repeats inside
    store.add_many("b", units[:50], "b")
    store.add("a", Unit(units[0].source, "Corrected."), "a")
    current = store.units("a") + store.units("b")
    assert len(current) == 350
    db = store._db
    assert {row[0] for row in db.execute("SELECT rowid FROM memory_trigrams")} == {u.id for u in current}
    expected: Counter[str] = Counter()
    for u in current:
        expected.update(trigrams(normalise(u.unit.source)))
    counts = {row[0]: row[1] for row in db.execute("SELECT gram, units FROM memory_grams") if row[1]}
    assert counts == dict(expected)
    store.close()
