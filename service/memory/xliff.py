"""XLIFF 2.0 exchange of translated documents, written and read with translate-toolkit
(`translate.storage.xliff2`).

Export: one `<unit>` per sentence, in reading order, its `<segment state>` saying how far the English
got (`translated`: the model's; `reviewed`: an exact or placeables memory match; `final`: a context
match; `initial`: a fuzzy match applied), a sentence kept verbatim as a `translate="no"` unit. Texts
are plain: inline markup (links, emphasis, code) is written as XLIFF `<pc>` codes, and a segment's
codes are taken out of its text on import (`service.memory.xliff_codes`). Each
unit carries notes a CAT tool shows and keeps: the French sentences before and after it (its context)
and the English as exported, so a re-import can tell what the translator changed.

Import: the file is checked as TMX is (no entity, well-formed, an `<xliff version="2.x">` root from
French to English); each segment whose target differs from the exported English, whose state is
`reviewed` or `final`, or whose state was raised (a fuzzy match's `initial` confirmed as
`translated`), becomes a unit with its context. A file written elsewhere (no bitext notes)
gives a unit for every segment with a target whose state is not `initial`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from lxml import etree
from translate.storage.xliff2 import Xliff2File, Xliff2Unit

from models.document import EnglishSource, Mark
from models.memory import Origin, Unit
from service.memory.exchange import ExchangeError, parse_xml
from service.memory.xliff_codes import NAMESPACE, NOT_XML, read_coded, source_and_target, write_coded
from service.schemas import MarkOut, TranslateResponse

INVALID = "invalid_xliff"
PREVIOUS, NEXT, ENGLISH, ORIGIN = "bitext:previous", "bitext:next", "bitext:english", "bitext:source"


class SegmentState(StrEnum):
    """XLIFF 2.0's `<segment state>`, least to most done."""

    INITIAL = "initial"
    TRANSLATED = "translated"
    REVIEWED = "reviewed"
    FINAL = "final"


STATE_OF = {
    EnglishSource.MODEL: SegmentState.TRANSLATED,
    EnglishSource.KEPT: SegmentState.FINAL,
    EnglishSource.MEMORY_CONTEXT: SegmentState.FINAL,
    EnglishSource.MEMORY_EXACT: SegmentState.REVIEWED,
    EnglishSource.MEMORY_PLACEABLES: SegmentState.REVIEWED,
    EnglishSource.MEMORY_FUZZY: SegmentState.INITIAL,
}
_TAKEN = (SegmentState.REVIEWED, SegmentState.FINAL)
_ORDER = list(SegmentState)


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of a translated document, as an XLIFF unit holds it."""

    id: str
    french: str
    english: str
    source: EnglishSource
    previous: str = ""
    next: str = ""
    french_marks: tuple[Mark, ...] = ()  # inline markup over `french`, outer first
    english_marks: tuple[Mark, ...] = ()  # the same elements over `english`

    @property
    def translate(self) -> bool:
        return self.source is not EnglishSource.KEPT


@dataclass(frozen=True, slots=True)
class XliffImport:
    units: list[Unit]
    skipped: int  # segments left out: unchanged, not yet translated, or marked translate="no"


def sentences_of(response: TranslateResponse) -> list[Sentence]:
    """A `/v1/translate` answer's sentences in reading order (plain text, no inline markup), each
    translated one with the translated sentences around it as its context, as the memory looks them up."""
    flat = [
        (f"b{block.index}-s{n}", s.fr_plain if s.fr_plain is not None else s.fr, s)
        for block in response.blocks
        for n, s in enumerate(block.sentences)
    ]
    translated = [french for _, french, s in flat if s.source is not EnglishSource.KEPT]
    out: list[Sentence] = []
    k = 0
    for ident, french, s in flat:
        english = s.en_plain if s.en_plain is not None else s.en
        marks = _marks(s.fr_marks), _marks(s.en_marks)
        if s.source is EnglishSource.KEPT:
            out.append(Sentence(ident, french, english, s.source, "", "", *marks))
            continue
        previous = translated[k - 1] if k else ""
        following = translated[k + 1] if k + 1 < len(translated) else ""
        out.append(Sentence(ident, french, english, s.source, previous, following, *marks))
        k += 1
    return out


def _marks(marks: list[MarkOut] | None) -> tuple[Mark, ...]:
    return tuple(Mark(m.kind, m.start, m.end, m.url) for m in marks or ())


@dataclass(frozen=True, slots=True)
class XliffFile:
    """One document of an XLIFF file: its `<file id>` (made an XML token), its name (`original`, empty: none)
    and its sentences."""

    id: str
    sentences: Sequence[Sentence]
    original: str = ""


def export_xliff(sentences: Sequence[Sentence], name: str = "document") -> bytes:
    """The sentences as one XLIFF 2.0 `<file>` (UTF-8), French source, English target; a text XML cannot
    hold (control characters, lone surrogates) raises `ExchangeError` naming its sentence."""
    return export_files([XliffFile(name, sentences)])


def export_files(files: Sequence[XliffFile]) -> bytes:
    """Several documents as one XLIFF 2.0 file, a `<file>` each in order (a job's); as `export_xliff`."""
    if not files:
        raise ValueError("an XLIFF file holds at least one <file>")
    for document in files:
        _check_xml(document, len(files) > 1)
    store = Xliff2File(sourcelanguage="fr", targetlanguage="en")
    store.setsourcelanguage("fr")
    store.settargetlanguage("en")
    ids: set[str] = set()
    for n, document in enumerate(files):
        if n:  # the skeleton's <file> holds the first; each next one is a new <file> after it
            store.body = etree.SubElement(store.document.getroot(), f"{{{NAMESPACE}}}file")
        token = _nmtoken(document.id)
        while token in ids:  # file ids are unique in the file; two documents' names may not be
            token = f"{token}_"
        ids.add(token)
        store.body.set("id", token)
        if document.original:
            store.body.set("original", document.original)
        for sentence in document.sentences:
            _add(store, sentence)
    return bytes(store)


def _check_xml(document: XliffFile, named: bool) -> None:
    for sentence in document.sentences:
        urls = [m.url or "" for m in (*sentence.french_marks, *sentence.english_marks)]
        for text in (sentence.french, sentence.english, sentence.previous, sentence.next, *urls):
            bad = NOT_XML.search(text)
            if bad:
                where = f"{document.original or document.id}: " if named else ""
                message = f"{where}sentence {sentence.id} holds U+{ord(bad.group()):04X}, which XML cannot carry"
                raise ExchangeError(message, code="invalid_document")


def _add(store: Xliff2File, sentence: Sentence) -> None:
    unit: Xliff2Unit = store.addsourceunit(sentence.french)
    unit.target = sentence.english
    unit.setid(sentence.id)
    unit.xmlelement.set("state", STATE_OF[sentence.source].value)
    if sentence.french_marks or sentence.english_marks:
        source, target = source_and_target(
            sentence.french, sentence.french_marks, sentence.english, sentence.english_marks
        )
        written = write_coded(unit.xmlelement.find(f"{{{NAMESPACE}}}source"), source)
        write_coded(unit.xmlelement.find(f"{{{NAMESPACE}}}target"), target.only(written))  # a target id is a source's
    element = unit.getunitelement()
    if not sentence.translate:
        element.set("translate", "no")
    notes = [(ORIGIN, sentence.source.value), (ENGLISH, sentence.english)]
    notes += [(kind, text) for kind, text in ((PREVIOUS, sentence.previous), (NEXT, sentence.next)) if text]
    container = etree.Element(f"{{{NAMESPACE}}}notes")
    for category, text in notes:
        note = etree.SubElement(container, f"{{{NAMESPACE}}}note", category=category)
        note.text = text
    element.insert(0, container)


def import_xliff(data: bytes, origin: Origin = Origin.IMPORT) -> XliffImport:
    """The post-edited segments of an XLIFF 2.0 file as units; the first problem raises `ExchangeError`."""
    root = parse_xml(data, INVALID)
    line = root.sourceline or 0
    if etree.QName(root).localname != "xliff" or not root.get("version", "").startswith("2."):
        raise ExchangeError('not an XLIFF 2 document: the root must be <xliff version="2.0">', line, code=INVALID)
    languages = {"srcLang": ("fr", "French"), "trgLang": ("en", "English")}
    for attribute, (code, language) in languages.items():
        if _language(root.get(attribute)) != code:
            raise ExchangeError(f"{attribute} must be {language} ({code}, {code}-…)", line, code=INVALID)
    try:
        store = Xliff2File.parsestring(data)
    except Exception as error:  # noqa: BLE001 - the toolkit's own parse errors, reported as the file's
        raise ExchangeError(f"translate-toolkit cannot read it: {error}", code=INVALID) from None
    units: list[Unit] = []
    skipped = 0
    for unit in store.units:
        taken = _unit(unit, origin)
        if taken is None:
            skipped += 1
        else:
            units.append(taken)
    return XliffImport(units, skipped)


def _unit(unit: Xliff2Unit, origin: Origin) -> Unit | None:
    segment = unit.xmlelement
    line = segment.sourceline or 0
    # The texts without their inline codes: <pc> and <mrk> keep their text, <ph>, <sc>, <ec> go.
    target = read_coded(segment.find(f"{{{NAMESPACE}}}target"))
    if not unit.istranslatable() or not target.strip():
        return None
    source = read_coded(segment.find(f"{{{NAMESPACE}}}source"))
    if not source.strip():
        raise ExchangeError("this segment has a target but no French <source>", line, code=INVALID)
    raw = segment.get("state", SegmentState.INITIAL.value)
    try:
        state = SegmentState(raw)
    except ValueError:
        message = f"unknown segment state {raw!r} (initial, translated, reviewed, final)"
        raise ExchangeError(message, line, code=INVALID) from None
    element = unit.getunitelement()
    # bitext writes one segment per unit; a unit a tool split into several no longer matches its notes.
    whole = len(element.findall(f"{{{NAMESPACE}}}segment")) == 1
    notes = _notes(element) if whole else {}
    exported = notes.get(ENGLISH)
    if exported is not None:
        before = _exported_state(notes.get(ORIGIN, ""))
        raised = before is not None and _ORDER.index(state) > _ORDER.index(before)
        if target == exported and state not in _TAKEN and not raised:
            return None
    elif state is SegmentState.INITIAL:
        return None
    return Unit(source, target, notes.get(PREVIOUS, ""), notes.get(NEXT, ""), origin)


def _exported_state(source: str) -> SegmentState | None:
    try:
        return STATE_OF[EnglishSource(source)]
    except ValueError:
        return None


def _notes(element: etree._Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for note in element.iterfind(f"{{{NAMESPACE}}}notes/{{{NAMESPACE}}}note"):
        category = note.get("category")
        if category and category not in found:
            found[category] = note.text or ""
    return found


def _language(tag: str | None) -> str:
    return (tag or "").strip().lower().replace("_", "-").split("-")[0]


def _nmtoken(name: str) -> str:
    """`name` as an XML id-safe token (the `<file id>`): letters, digits, `-`, `_`, `.`."""
    token = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("_.-")
    return token or "document"
