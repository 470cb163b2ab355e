"""Every format reader works and holds memory in proportion to the bytes it was given.

Families of small hostile documents (`tests.support.hostile`) are read at two sizes of the attack.
Work is counted in function calls (a profile hook: the same count on any machine) and memory as
the peak of Python's allocations, so these are complexity tests without a clock:

- a **bomb** (a PDF form drawn n times, forms drawing forms, a font map read per page) hardly grows
  in bytes when its attack doubles: its work and memory must not grow either (the reader stops at
  its work budget, `too_much_work`);
- a **growing** family (nesting, many runs, many cues) may cost more as it grows, but at most
  linearly: doubling it at most ~2.5× its calls and its peak memory.
"""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from models.document import BilingualDocument
from models.parse import parse
from models.pipeline import translate_document
from service import formats
from service.formats import package
from service.formats.work import WorkBudget
from service.jobs.reasons import Reason
from tests.support import hostile
from tests.support.documents import docx, epub, odt
from tests.support.fakes import FakeEngine
from tests.support.hostile import cost

# A small floor, so the bombs meet their budget at test sizes (the default floor is 1,000,000 units).
CAPS = formats.Limits(work_floor=20_000)


def _format(kind: str) -> Callable[[bytes], Any]:
    return lambda data: formats.read_source(data, kind, CAPS)


def _text(kind: str) -> Callable[[bytes], Any]:
    return lambda data: parse(data.decode("utf-8"), kind)


BOMBS = {
    "pdf form drawn n times": (hostile.pdf_form_drawn, _format("pdf"), 200),
    "pdf forms drawing forms": (hostile.pdf_nested_forms, _format("pdf"), 40),
    "pdf small form past pypdf's per-page count": (hostile.pdf_many_tiny_forms, _format("pdf"), 3_000),
    "pdf form with a large font map": (hostile.pdf_form_font_map, _format("pdf"), 40),
}
# Bytes a page adds, but a font map that expands a thousandfold read again at every page.
AMPLIFIED = {
    "pdf pages sharing a map of ranges": (hostile.pdf_font_map_ranges, _format("pdf"), 8),
}

GROWING = {
    "pdf pages sharing a large font map": (hostile.pdf_shared_font_map, _format("pdf"), 4),
    "pdf one paragraph over many pages": (hostile.pdf_long_paragraph, _format("pdf"), 500),
    "docx runs nested in runs": (hostile.docx_nested_runs, _format("docx"), 60),
    "docx text boxes nested": (hostile.docx_nested_text_boxes, _format("docx"), 60),
    "docx many emphasis runs": (hostile.docx_many_runs, _format("docx"), 1_000),
    "odt spans nested": (hostile.odt_nested_spans, _format("odt"), 60),
    "epub divs nested": (hostile.epub_nested, _format("epub"), 60),
    "srt many cues": (hostile.srt_cues, _format("srt"), 400),
    "srt tags nested": (hostile.srt_nested_tags, _format("srt"), 400),
    "vtt tags nested": (hostile.vtt_nested_tags, _format("vtt"), 400),
    "html nested": (hostile.html_nested, _text("html"), 40),
    "markdown emphasis and brackets": (hostile.markdown_emphasis, _text("markdown"), 400),
}


def _costs(family: Callable[[int], bytes], read: Callable[[bytes], Any], n: int) -> tuple[Any, Any, bytes, bytes]:
    small, large = family(n), family(2 * n)
    cost(lambda: read(small))  # imports and caches warmed, not counted
    return cost(lambda: read(small)), cost(lambda: read(large)), small, large


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_bomb_costs_no_more_when_its_attack_doubles(name: str) -> None:
    family, read, n = BOMBS[name]
    small, large, small_data, large_data = _costs(family, read, n)
    assert len(large_data) < 1.1 * len(small_data)  # the attack doubled, the bytes hardly moved
    for data in (small_data, large_data):
        with pytest.raises(formats.FormatError) as refused:
            read(data)
        assert refused.value.code == Reason.TOO_MUCH_WORK
    assert large.calls <= 1.25 * small.calls, (small, large)
    # Memory may follow the page's own content (pypdf parses it whole; it is charged first), so it is held
    # to the doubling bound, not flat.
    assert large.peak <= 2.5 * small.peak + 200_000, (small, large)


# Function calls a reader may make per byte of input, and whatever the input (the budget's floor at
# the test caps): about ten times what the hostile families and ordinary documents need.
CALLS_PER_BYTE = 1_000
CALLS_FLOOR = 2_000_000


@pytest.mark.parametrize("name", [*BOMBS, *AMPLIFIED, *GROWING])
def test_work_is_bounded_by_the_documents_bytes(name: str) -> None:
    family, read, n = {**BOMBS, **AMPLIFIED, **GROWING}[name]
    data = family(2 * n)
    read_cost = cost(lambda: read(data))
    assert read_cost.calls <= CALLS_PER_BYTE * len(data) + CALLS_FLOOR, (read_cost, len(data))


@pytest.mark.parametrize("name", list(GROWING))
def test_work_and_memory_grow_at_most_linearly(name: str) -> None:
    family, read, n = GROWING[name]
    small, large, _, _ = _costs(family, read, n)
    assert large.calls <= 2.5 * small.calls, (small, large)
    assert large.peak <= 2.5 * small.peak + 100_000, (small, large)


@pytest.mark.parametrize("build", [docx, odt, epub], ids=["docx", "odt", "epub"])
def test_a_zipped_document_never_holds_what_its_parts_inflate_to(build: Callable[[], bytes]) -> None:
    """Parts under the per-part ratio floor (900 kB of spaces each, a thousandfold) were all read into memory:
    now the parts together are judged against the document's own bytes, and none is kept inflated."""
    family = hostile.inflating(build)
    kind = build.__name__
    data = family(8)  # 7.2 MB of parts in about 60 kB
    with pytest.raises(formats.FormatError) as refused:
        formats.read_source(data, kind)
    assert refused.value.code == Reason.COMPRESSION_RATIO
    assert cost(lambda: formats.read_source(data, kind)).peak < 900_000  # not even one part's size


@pytest.mark.parametrize("build", [docx, odt, epub], ids=["docx", "odt", "epub"])
def test_a_read_document_holds_its_compressed_bytes_not_its_parts(build: Callable[[], bytes]) -> None:
    """One extra part of 900 kB (under every ratio) is checked but not kept: reading and writing back hold
    one inflated part at a time."""
    data = hostile.inflating(build)(1)
    kind = build.__name__
    held = cost(lambda: formats.read_source(data, kind)).peak
    assert held < 2 * 900_000  # inflated a chunk at a time, never the whole part kept
    source = formats.read_source(data, kind)
    assert not any(isinstance(value, bytes) and len(value) >= 900_000 for value in vars(source.state.package).values())


def _answer(source: formats.Source) -> BilingualDocument:
    return translate_document(source.document, FakeEngine())


@pytest.mark.parametrize("build", [docx, odt, epub], ids=["docx", "odt", "epub"])
def test_a_zipped_document_is_opened_once_and_each_part_inflated_once_to_check_it(
    build: Callable[[], bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The zip's directory was read again for every part parsed and for the write; now one `ZipFile` serves
    the package's life. Opening inflates every part once (checked, not kept), and a part is inflated again
    only when a reader or the writer asks for it."""
    opened: list[object] = []
    inflated: Counter[str] = Counter()
    real_zipfile, real_member = package.zipfile.ZipFile, package.open_zip_member

    class CountingZipFile(real_zipfile):
        def __init__(self, file: Any, mode: Any = "r", *args: Any, **kwargs: Any) -> None:
            if mode == "r":
                opened.append(file)
            super().__init__(file, mode, *args, **kwargs)

    def counting_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Any:
        inflated[info.filename] += 1
        return real_member(archive, info)

    kind, data = build.__name__, build()
    monkeypatch.setattr(package.zipfile, "ZipFile", CountingZipFile)
    monkeypatch.setattr(package, "open_zip_member", counting_member)
    source = formats.read_source(data, kind)
    parts = [info.filename for info in source.state.package.infos]
    assert len(opened) == 1
    read = Counter(inflated)
    assert set(read) == set(parts) and all(1 <= read[name] <= 2 for name in parts), read  # checked; parsed at most once
    written = formats.write_source(source, formats.bilingual(source, _answer(source)), "english")
    assert len(opened) == 1  # the write copies from the same open package
    assert zipfile.ZipFile(io.BytesIO(written)).namelist()  # a zip came out
    copied = inflated - read
    assert all(copied[name] <= 1 for name in parts), copied  # each part copied or parsed once to be written


def test_the_pdf_form_bomb_of_the_report_is_refused_in_its_budget() -> None:
    """A 1 kB PDF drawing a Flate form of `cm` lines from its page again and again took 54 s of worker CPU."""
    data = hostile.pdf_form_drawn(3_000)
    with pytest.raises(formats.FormatError) as refused:
        formats.read_source(data, "pdf")
    assert refused.value.code == Reason.TOO_MUCH_WORK
    assert "form XObject" in str(refused.value)


def test_a_budget_grows_with_the_document_and_stops_at_its_cap() -> None:
    caps = formats.Limits(work_floor=1_000, work_per_byte=10, max_document_work=50_000)
    assert WorkBudget.for_input(100, caps, "PDF").allowed == 2_000
    assert WorkBudget.for_input(1_000_000, caps, "PDF").allowed == 50_000
    budget = WorkBudget.for_input(100, caps, "PDF")
    budget.charge(2_000, "all of it")
    with pytest.raises(formats.FormatError) as refused:
        budget.charge(1, "one more")
    assert refused.value.code == Reason.TOO_MUCH_WORK and "one more" in str(refused.value)


FONTS = [
    path
    for path in (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"),
        Path("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf"),
    )
    if path.is_file()
]


@pytest.mark.skipif(not FONTS, reason="no TrueType font on this machine for fpdf2 to embed")
def test_ordinary_documents_stay_well_inside_their_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Documents as the usual tools write them (fpdf2 with an embedded TrueType font on 200 pages, python-docx,
    odfpy, the EPUB writer) spend a small part of what their size allows."""
    import fpdf

    spent: list[WorkBudget] = []
    original = WorkBudget.for_input

    def spy(size: int, caps: formats.Limits, kind: str) -> WorkBudget:
        spent.append(original(size, caps, kind))
        return spent[-1]

    document = fpdf.FPDF()
    document.add_font("Serif", "", str(FONTS[0]))
    for page in range(200):
        document.add_page()
        document.set_font("Serif", "", 11)
        document.multi_cell(0, 6, f"Page {page}. Le conseil municipal a voté le budget « des écoles ». " * 8)
    pdf = bytes(document.output())
    monkeypatch.setattr(WorkBudget, "for_input", staticmethod(spy))
    for kind, data in (("pdf", pdf), ("docx", docx()), ("odt", odt()), ("epub", epub(3))):
        formats.read_source(data, kind)
        assert spent[-1].spent < 16 * len(data) + 100_000, (kind, spent[-1].spent, len(data))


def test_html_nested_past_the_parsers_depth_is_refused_not_cut_short() -> None:
    """libxml2 stops at about 255 levels and drops the deeper text without a word: refused instead."""
    from models.parse import ParseError

    assert len(parse(hostile.html_nested(90).decode(), "html").blocks) == 90
    with pytest.raises(ParseError, match="nested too deeply"):
        parse(hostile.html_nested(300).decode(), "html")


def test_runs_nested_in_runs_give_their_text_once_and_in_order() -> None:
    body = hostile._document_xml(
        "<w:p><w:r><w:t>Le conseil </w:t><w:r><w:rPr><w:b/></w:rPr><w:t>municipal</w:t></w:r>"
        "<w:t> a voté.</w:t></w:r></w:p>"
    )
    source = formats.read_source(hostile.replace_part(docx(), "word/document.xml", body), "docx")
    assert [block.text for block in source.document.blocks] == ["Le conseil **municipal** a voté."]


def _page_with_fonts(count: int) -> Any:
    from pypdf.generic import DictionaryObject, NameObject

    font = {NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1")}
    fonts = DictionaryObject({NameObject(f"/F{n}"): DictionaryObject(font) for n in range(count)})
    return DictionaryObject({NameObject("/Resources"): DictionaryObject({NameObject("/Font"): fonts})})


def test_every_font_a_page_declares_is_charged_past_fifty_thousand() -> None:
    """The meter stopped counting a page's fonts at 50,000 (pypdf builds them all): a page declaring more was
    charged as if it had 50,000. Now every font is charged, and the budget alone bounds the count."""
    from service.formats.pdf_work import Meter

    probe = WorkBudget(10**12, "PDF")
    Meter(probe).page(_page_with_fonts(1_000), 0)
    per_font = probe.spent // 1_000  # a page's fixed cost is under one font's
    allowed = per_font * 55_000
    Meter(WorkBudget(allowed, "PDF")).page(_page_with_fonts(54_000), 0)  # within the budget: read
    with pytest.raises(formats.FormatError) as refused:
        Meter(WorkBudget(allowed, "PDF")).page(_page_with_fonts(60_000), 0)
    assert refused.value.code == Reason.TOO_MUCH_WORK
