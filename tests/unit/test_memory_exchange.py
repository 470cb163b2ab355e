"""XLIFF 2.0 and glossary readers and writers of the memory (service.memory.xliff, service.memory.glossary)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from models.document import EnglishSource, Mark
from models.memory import Origin, Unit
from service.memory.exchange import ExchangeError, ExchangeFormat
from service.memory.glossary import export_glossary, import_glossary
from service.memory.terms import Entry, Glossary, GlossaryChange, GlossaryMode, GlossaryTooLarge
from service.memory.xliff import NAMESPACE as NS
from service.memory.xliff import Sentence, XliffFile, export_files, export_xliff, import_xliff
from service.memory.xliff_codes import read_coded

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


# A post-edited file as a CAT tool writes inline codes (after the XLIFF 2.0 specification's examples):
# <pc> around formatted text, <ph> for a standalone tag with its original in <originalData>, <sc>/<ec>
# for a span that crosses another, <mrk> for a term, <sm>/<em> markers, a line break, a code point.
CAT_TOOL = """<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="fr-FR" trgLang="en-US">
 <file id="f1" original="article.html">
  <unit id="1">
   <originalData>
    <data id="d1">&lt;b&gt;</data><data id="d2">&lt;/b&gt;</data><data id="d3">&lt;img src="a.png"/&gt;</data>
    <data id="d4">&lt;br/&gt;</data>
   </originalData>
   <segment state="translated" SPACE>
    <source>Cliquez <pc id="1" dataRefStart="d1" dataRefEnd="d2" type="fmt" subType="xlf:b">ici</pc> pour voir <ph id="2" dataRef="d3"/> la <sc id="3" type="fmt"/>suite<ec startRef="3"/> de <mrk id="m1" type="term">l'article</mrk>.</source>
    <target>Click <pc id="1" dataRefStart="d1" dataRefEnd="d2" type="fmt" subType="xlf:b">here</pc> to see <ph id="2" dataRef="d3"/> the <sc id="3" type="fmt"/>rest<ec startRef="3"/> of <mrk id="m1" type="term">the article</mrk>.</target>
   </segment>
  </unit>
  <unit id="2">
   <segment state="final" SPACE>
    <source><ph id="1"/> Voir<ph id="2" subType="xlf:lb" type="fmt" dataRef="d4"/>ci-dessous <sm id="s1" type="comment" value="x"/>le<em startRef="s1"/> tableau <ph id="3"/></source>
    <target><ph id="1"/> See<ph id="2" subType="xlf:lb" type="fmt" dataRef="d4"/>the table<cp hex="0001"/> below <ph id="3"/></target>
   </segment>
  </unit>
  <unit id="3">
   <segment state="reviewed" SPACE>
    <source>Prix<cp hex="00A0"/>: 3<ph id="1"/>€</source>
    <target>Price: €3<ph id="1"/></target>
   </segment>
  </unit>
 </file>
</xliff>
"""  # noqa: E501 - segments as a tool writes them, one line each


@pytest.mark.parametrize("space", ["", 'xml:space="preserve"'])
def test_inline_codes_a_cat_tool_writes_are_not_read_as_text(space: str) -> None:
    """<pc> and <mrk> keep their text; <ph>, <sc>, <ec> go with one of the spaces around them, a line
    break between two words is a space; no code is stored as text, and every unit is stored."""
    found = import_xliff(CAT_TOOL.replace("SPACE", space).encode())
    assert [(u.source, u.english) for u in found.units] == [
        ("Cliquez ici pour voir la suite de l'article.", "Click here to see the rest of the article."),
        ("Voir ci-dessous le tableau", "See the table below"),
        ("Prix\u00a0: 3€", "Price: €3"),
    ]
    assert found.skipped == 0
    assert not any("<" in u.source + u.english or "\x01" in u.english for u in found.units)


LINK = "https://example.org/budget?an=2024&vue=1"
# "Le **conseil** a voté le [budget *annuel*](LINK)." and its English, as plain texts and marks.
FRENCH = "Le conseil a voté le budget annuel."
ENGLISH = "The council passed the annual budget."
FR_MARKS = (Mark("strong", 3, 10), Mark("link", 21, 34, LINK), Mark("em", 28, 34))
EN_MARKS = (Mark("strong", 4, 11), Mark("link", 23, 36, LINK), Mark("em", 23, 29))


def _codes(element: etree._Element) -> list[tuple[str, str | None, str | None]]:
    return [(pc.get("id"), pc.get("type"), pc.get("subType")) for pc in element.iter(f"{{{NS}}}pc")]


def test_marks_are_written_as_pc_codes_and_come_back_as_plain_text() -> None:
    sentence = Sentence("b0-s0", FRENCH, ENGLISH, EnglishSource.MODEL, "", "", FR_MARKS, EN_MARKS)
    data = export_xliff([sentence])
    assert b"**" not in data and b"](" not in data and b"&lt;a" not in data
    root = etree.fromstring(data)
    source, target = root.find(f".//{{{NS}}}source"), root.find(f".//{{{NS}}}target")
    assert etree.tostring(source, encoding="unicode", with_tail=False).split(">", 1)[1] == (
        f'Le <pc id="1" type="fmt" subType="xlf:b">conseil</pc> a voté le <pc id="2" type="link"'
        f' dispStart="{LINK.replace("&", "&amp;")}">budget <pc id="3" type="fmt" subType="xlf:i">annuel</pc></pc>'
        ".</source>"
    )
    # The English's codes have the ids of the same elements in the French, nested where they landed.
    assert _codes(target) == [("1", "fmt", "xlf:b"), ("2", "link", None), ("3", "fmt", "xlf:i")]
    assert ["".join(pc.itertext()) for pc in target.iter(f"{{{NS}}}pc")] == ["council", "annual budget", "annual"]
    assert import_xliff(data).units == []  # unchanged: the codes do not make it look edited

    # A translator edits text inside a code; the memory gets the plain texts.
    edited = data.replace(b">council</pc>", b">town council</pc>").replace(b'state="translated"', b'state="final"')
    assert import_xliff(edited).units == [
        Unit(FRENCH, "The town council passed the annual budget.", origin=Origin.IMPORT)
    ]


def test_marks_that_cannot_be_nested_or_have_no_partner_leave_their_text() -> None:
    crossing = (Mark("strong", 0, 10), Mark("em", 5, 15), Mark("link", 40, 50, LINK))
    extra = (*EN_MARKS, Mark("code", 0, 3))  # no French code element: no id to give it
    sentence = Sentence("b0-s0", FRENCH, ENGLISH, EnglishSource.MODEL, "", "", crossing, extra)
    root = etree.fromstring(export_xliff([sentence]))
    source, target = root.find(f".//{{{NS}}}source"), root.find(f".//{{{NS}}}target")
    assert _codes(source) == [("1", "fmt", "xlf:b")]  # the crossing em and the link past the end are left out
    assert "".join(source.itertext()) == FRENCH and "".join(target.itertext()) == ENGLISH
    assert _codes(target) == [("1", "fmt", "xlf:b")]


_KINDS = st.sampled_from(["strong", "em", "code", "link", "image", "span", "other"])
_TEXT = st.text(st.characters(blacklist_categories=["Cs", "Cc", "Cn"]) | st.sampled_from(" \t\n&<>\"'"), max_size=40)


@st.composite
def _marked(draw: st.DrawFn) -> tuple[str, list[Mark]]:
    text = draw(_TEXT)
    marks = []
    for _ in range(draw(st.integers(0, 5))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, len(text) + 2))  # some past the end: left out
        kind = draw(_KINDS)
        marks.append(Mark(kind, start, end, draw(_TEXT) if kind == "link" else None))
    return text, marks


@settings(max_examples=200, deadline=None)
@given(_marked(), _marked())
def test_codes_never_change_the_text_and_target_ids_are_source_ids(
    french: tuple[str, list[Mark]], english: tuple[str, list[Mark]]
) -> None:
    """Whatever the marks (nested, crossing, empty, past the end), the exported source and target read back
    as exactly the plain texts, each code id is used once, and every target id is a source id."""
    sentence = Sentence(
        "b0-s0", french[0], english[0], EnglishSource.MODEL, "", "", tuple(french[1]), tuple(english[1])
    )
    data = export_xliff([sentence])
    root = etree.fromstring(data)
    source, target = root.find(f".//{{{NS}}}source"), root.find(f".//{{{NS}}}target")
    assert read_coded(source) == french[0] and read_coded(target) == english[0]
    source_ids = [pc.get("id") for pc in source.iter(f"{{{NS}}}pc")]
    target_ids = [pc.get("id") for pc in target.iter(f"{{{NS}}}pc")]
    assert len(set(source_ids)) == len(source_ids) and len(set(target_ids)) == len(target_ids)
    assert set(target_ids) <= set(source_ids)
