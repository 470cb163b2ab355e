"""Small hostile documents of every format, each a family grown by `n`: the shapes that make a reader
work or hold memory out of proportion to its bytes (forms drawn again and again, parts that
inflate, nesting, many tiny elements). `cost` measures a read by what it does, not how long it
takes: the function calls made (Python and C, counted by a profile hook: the same number on any
machine) and the peak of Python's allocations."""

from __future__ import annotations

import io
import sys
import tracemalloc
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.support.documents import docx, epub, odt
from tests.support.pdf import Line, make_pdf

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


@dataclass(frozen=True)
class Cost:
    calls: int
    peak: int  # bytes


def cost(read: Callable[[], Any]) -> Cost:
    """What `read()` does: function calls made and the peak of Python memory (an exception ends it too)."""
    calls = 0

    def count(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    tracemalloc.start()
    sys.setprofile(count)
    try:
        read()
    except Exception:  # noqa: BLE001, S110 - a refusal is a way to end; its cost is what counts
        pass
    finally:
        sys.setprofile(None)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return Cost(calls, peak)


def replace_part(data: bytes, name: str, body: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    """The zipped document `data` with part `name` replaced by `body` (deflated), and `extra` parts added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, body if info.filename == name else source.read(info), zipfile.ZIP_DEFLATED)
        for extra_name, extra_body in (extra or {}).items():
            target.writestr(extra_name, extra_body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _document_xml(body: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body>{body}</w:body></w:document>'.encode()


# --- PDF -------------------------------------------------------------------------------------------

_TEXT = [Line("Le conseil municipal a voté le budget hier soir.")]
_BT = b"BT /F1 12 Tf 72 700 Td (Le conseil a vote.) Tj ET\n"


def pdf_form_drawn(n: int) -> bytes:
    """One page drawing one form `n` times: text extraction reads the form again at every `Do`."""
    return make_pdf([_BT + b"/X0 Do\n" * n], forms={"X0": b"1 0 0 1 0 0 cm\n" * 400 + _BT})


def pdf_nested_forms(n: int) -> bytes:
    """Forms drawing forms: X0 draws X1 `n` times, X1 draws X2 `n` times (n² readings of X2)."""
    forms = {"X0": b"/X1 Do\n" * n, "X1": b"/X2 Do\n" * n, "X2": b"1 0 0 1 0 0 cm\n" * 50 + _BT}
    return make_pdf([_BT + b"/X0 Do\n"], forms=forms)


def pdf_many_tiny_forms(n: int) -> bytes:
    """A page drawing a small form `n` times, past what pypdf draws on one page."""
    return make_pdf([_BT + b"/X0 Do\n" * n], forms={"X0": _BT})


def _cmap(entries: int) -> bytes:
    ranges = b"".join(b"<%04X> <%04X>\n" % (i, 0x41 + i % 26) for i in range(entries))
    return (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /X def\n"
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        + b"".join(b"100 beginbfchar\n" + ranges[i : i + 1400] + b"endbfchar\n" for i in range(0, len(ranges), 1400))
        + b"endcmap CMapName currentdict /CMap defineresource pop end end\n"
    )


def pdf_shared_font_map(n: int) -> bytes:
    """`n` short pages sharing one font whose ToUnicode map is large: pypdf reads the map again per page."""
    return make_pdf([_TEXT] * n, to_unicode=_cmap(2_000))


def pdf_form_font_map(n: int) -> bytes:
    """A form with one text operator, drawn `n` times, whose font has a large ToUnicode map."""
    return make_pdf([_BT + b"/X0 Do\n" * n], forms={"X0": _BT}, to_unicode=_cmap(2_000))


def _full_range_map() -> bytes:
    return (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /X def\n"
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        b"1 beginbfrange\n<0000> <FFFF> <0041>\nendbfrange\n"
        b"endcmap CMapName currentdict /CMap defineresource pop end end\n"
    )


def pdf_font_map_ranges(n: int) -> bytes:
    """`n` short pages sharing a font whose ToUnicode map is one range line: 25 bytes that pypdf expands
    to 65,536 entries, again at every page."""
    return make_pdf([_TEXT] * n, to_unicode=_full_range_map())


def pdf_long_paragraph(n: int) -> bytes:
    """One paragraph of `n` lines going on over page after page (no full stop, lower case): each line
    and each page joined to the growing paragraph."""
    lines = [Line(f"mot{j} la suite du texte sans fin", 72, 760 - (j % 50) * 14) for j in range(n)]
    return make_pdf([lines[i : i + 50] for i in range(0, n, 50)])


# --- DOCX, ODT, EPUB -------------------------------------------------------------------------------


def docx_nested_runs(n: int) -> bytes:
    """Runs nested `n` deep in each of 40 paragraphs (Word never writes this; a file can)."""
    run = "<w:r><w:t>mot </w:t>" * n + "</w:r>" * n
    return replace_part(docx(), "word/document.xml", _document_xml(f"<w:p>{run}</w:p>" * 40))


def docx_nested_text_boxes(n: int) -> bytes:
    """Paragraphs nested `n` deep (text boxes in text boxes), each with words."""
    body = "<w:p><w:r><w:t>Le conseil a voté.</w:t></w:r>" * n + "</w:p>" * n
    return replace_part(docx(), "word/document.xml", _document_xml(body))


def docx_many_runs(n: int) -> bytes:
    """One paragraph of `n` runs alternating bold and plain (emphasis read as markdown)."""
    runs = "".join(
        f'<w:r>{"<w:rPr><w:b/></w:rPr>" if i % 2 else ""}<w:t xml:space="preserve">mot{i} </w:t></w:r>'
        for i in range(n)
    )
    return replace_part(docx(), "word/document.xml", _document_xml(f"<w:p>{runs}</w:p>"))


def inflating(build: Callable[[], bytes]) -> Callable[[int], bytes]:
    """A family of `build()` documents holding `n` extra parts of 900 kB of spaces each (under the
    per-part ratio floor, deflated about a thousandfold)."""

    def family(n: int) -> bytes:
        parts = {f"customXml/bomb{i}.xml": b" " * 900_000 for i in range(n)}
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(build()), "r") as source, zipfile.ZipFile(out, "w") as target:
            for info in source.infolist():
                target.writestr(info, source.read(info))
            for name, body in parts.items():
                target.writestr(name, body, zipfile.ZIP_DEFLATED)
        return out.getvalue()

    return family


def odt_nested_spans(n: int) -> bytes:
    """Spans nested `n` deep in each of 40 paragraphs."""
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    span = "<text:span>mot " * n + "</text:span>" * n
    body = f"<text:p>{span}</text:p>" * 40
    content = f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns}><office:body><office:text>'
    return replace_part(
        odt(), "content.xml", (content + body + "</office:text></office:body></office:document-content>").encode()
    )


def epub_nested(n: int) -> bytes:
    """Divs nested `n` deep, each with its own words, in a chapter."""
    book = epub(1)
    names = zipfile.ZipFile(io.BytesIO(book)).namelist()
    chapter = next(name for name in names if name.endswith(".xhtml") and "nav" not in name)
    body = "<div>Le conseil a voté. " * n + "</div>" * n
    xhtml = (
        '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title>'
        f"</head><body>{body}</body></html>"
    )
    return replace_part(book, chapter, xhtml.encode())


# --- text formats ----------------------------------------------------------------------------------


def srt_cues(n: int) -> bytes:
    return "".join(f"{i + 1}\n00:00:01,000 --> 00:00:02,000\nBonjour <i>à</i> tous.\n\n" for i in range(n)).encode()


def srt_nested_tags(n: int) -> bytes:
    return ("1\n00:00:01,000 --> 00:00:02,000\n" + "<i>mot " * n + "</i>" * n + "\n").encode()


def vtt_nested_tags(n: int) -> bytes:
    return ("WEBVTT\n\n00:01.000 --> 00:02.000\n" + "<v Marie><i>mot " * n + "</i></v>" * n + "\n").encode()


def html_nested(n: int) -> bytes:
    return ("<html><body><article>" + "<div><p>Le conseil a voté. " * n + "</body></html>").encode()


def markdown_emphasis(n: int) -> bytes:
    return ("Le conseil " + "*mot* " * n + "\n\n" + "**" * n + "\n\n" + "[a](" * n).encode()
