"""XLIFF 2.0 and glossary readers and writers of the memory (service.memory.xliff, service.memory.glossary)."""

from __future__ import annotations

import pytest

from models.document import EnglishSource
from models.memory import Origin, Unit
from service.memory.exchange import ExchangeError, ExchangeFormat
from service.memory.glossary import export_glossary, import_glossary
from service.memory.terms import Entry, Glossary, GlossaryChange, GlossaryMode, GlossaryTooLarge
from service.memory.xliff import Sentence, XliffFile, export_files, export_xliff, import_xliff

AWKWARD = "« Tom & Jerry » <b>\u00a0: l’été 1 200 €  "


def test_text_round_trips_exactly_through_xliff() -> None:
    sentences = [
        Sentence("b0-s0", AWKWARD, " Tom & Jerry <b>: 1,200 €\u202f", EnglishSource.MODEL, "", "Fin."),
        Sentence("b0-s1", "Fin.", "End.", EnglishSource.MEMORY_FUZZY, AWKWARD, ""),
    ]
    data = export_xliff(sentences, "a/b c.txt")
    assert b'<file id="a_b_c.txt">' in data
    edited = data.replace(b"End.</target>", b"The end.</target>").replace(b'state="translated"', b'state="final"')
    found = import_xliff(edited)
    assert found.units == [
        Unit(AWKWARD, " Tom & Jerry <b>: 1,200 €\u202f", "", "Fin.", Origin.IMPORT),
        Unit("Fin.", "The end.", AWKWARD, "", Origin.IMPORT),
    ]
    assert found.skipped == 0


def test_an_unedited_export_gives_only_its_reviewed_and_final_segments() -> None:
    sources = [
        EnglishSource.MODEL,
        EnglishSource.MEMORY_FUZZY,
        EnglishSource.MEMORY_EXACT,
        EnglishSource.MEMORY_CONTEXT,
    ]
    sentences = [Sentence(f"b0-s{n}", f"Phrase {n}.", f"Sentence {n}.", source) for n, source in enumerate(sources)]
    found = import_xliff(export_xliff(sentences))
    assert [unit.source for unit in found.units] == ["Phrase 2.", "Phrase 3."]
    assert found.skipped == 2


def test_a_confirmed_fuzzy_match_is_taken_and_a_split_unit_loses_its_context() -> None:
    sentences = [
        Sentence("b0-s0", "Un.", "One.", EnglishSource.MEMORY_FUZZY, "", "Deux."),
        Sentence("b0-s1", "Deux.", "Two.", EnglishSource.MODEL, "Un.", ""),
    ]
    data = export_xliff(sentences).replace(b'state="initial"', b'state="translated"', 1)
    assert import_xliff(data).units == [Unit("Un.", "One.", "", "Deux.", Origin.IMPORT)]

    split = data.replace(
        b"<target>Two.</target>\n      </segment>",
        b"<target>Two.</target>\n      </segment><segment state='final'><source>Trois.</source>"
        b"<target>Three.</target></segment>",
    )
    assert split != data
    assert [(u.source, u.previous) for u in import_xliff(split).units] == [("Un.", ""), ("Deux.", ""), ("Trois.", "")]


def test_utf16_entities_are_refused_too() -> None:
    data = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><xliff/>'.encode("utf-16")
    with pytest.raises(ExchangeError) as raised:
        import_xliff(data)
    assert raised.value.unsafe and raised.value.code == "unsafe_xml"


def test_a_glossary_with_a_bom_and_quoted_fields_is_read() -> None:
    data = '\ufeffle mot,the word\n"un ""mot""",a word\n'.encode()
    assert import_glossary(data, ExchangeFormat.CSV) == (Entry("le mot", "the word"), Entry('un "mot"', "a word"))


@pytest.mark.parametrize(
    ("data", "line"),
    [(b"a,b\n\xff,c\n", 2), (b"a,b\n" + b"x" * 2000 + b",y\n", 2), (b"\n\n", 0)],
)
def test_glossary_problems_name_their_line(data: bytes, line: int) -> None:
    with pytest.raises(ExchangeError) as raised:
        import_glossary(data, ExchangeFormat.CSV)
    assert raised.value.line == line and raised.value.code == "invalid_glossary"


def test_several_documents_are_one_file_each_and_a_bad_text_names_its_document() -> None:
    one = [Sentence("b0-s0", "Il pleut.", "It rains.", EnglishSource.MODEL)]
    two = [Sentence("b0-s0", "Il neige.", "It snows.", EnglishSource.MEMORY_EXACT)]
    data = export_files([XliffFile("a.txt", one, "x/a.txt"), XliffFile("a.txt", two, "y/a.txt")])
    assert data.count(b"<file ") == 2 and b'original="y/a.txt"' in data
    edited = data.replace(b"It snows.</target>", b"Snow is falling.</target>")
    assert [(u.source, u.english) for u in import_xliff(edited).units] == [
        ("Il neige.", "Snow is falling."),  # the unchanged model segment of the first file is skipped
    ]
    bad = [Sentence("b2-s1", "Il gèle\x07.", "It freezes.", EnglishSource.MODEL)]
    with pytest.raises(ExchangeError, match="y/b.txt: sentence b2-s1 holds U\\+0007"):
        export_files([XliffFile("a.txt", one, "x/a.txt"), XliffFile("b.txt", bad, "y/b.txt")])
    with pytest.raises(ValueError):
        export_files([])


@pytest.mark.parametrize("kind", [ExchangeFormat.CSV, ExchangeFormat.TSV])
def test_a_glossary_export_reads_back_the_same_entries(kind: ExchangeFormat) -> None:
    entries = (
        Entry("Poutine", "Putin"),
        Entry("l’Élysée, le palais", 'the "Élysée", the palace'),
        Entry("« OTAN »", "NATO;"),
        Entry('un "mot"', "a,word"),
    )
    data = export_glossary(Glossary("g", entries), kind)
    assert import_glossary(data, kind) == entries


@pytest.mark.parametrize("second", ["poutine,Putin", "POUTINE ,Putin", "Poutine  ,x"])
def test_the_same_term_twice_is_refused_with_its_line(second: str) -> None:
    with pytest.raises(ExchangeError) as raised:
        import_glossary(f"Poutine,Putin\n{second}\n".encode(), ExchangeFormat.CSV)
    assert raised.value.line == 2 and "line 1" in raised.value.message


def test_a_merge_replaces_the_same_terms_in_place_and_adds_the_others() -> None:
    current = Glossary("news", (Entry("Poutine", "Putin"), Entry("élus", "officials")), "t0", "t0")
    change = GlossaryChange((Entry("ÉLUS", "councillors"), Entry("Kremlin", "the Kremlin")), GlossaryMode.MERGE)
    merged = change.applied(current, "t1")
    assert merged == Glossary(
        "news", (Entry("Poutine", "Putin"), Entry("ÉLUS", "councillors"), Entry("Kremlin", "the Kremlin")), "t0", "t1"
    )
    assert GlossaryChange(change.entries).applied(current, "t1").entries == change.entries  # replace: the new only
    with pytest.raises(GlossaryTooLarge):
        GlossaryChange(change.entries, GlossaryMode.MERGE, limit=2).applied(current, "t1")
