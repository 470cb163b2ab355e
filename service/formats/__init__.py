"""Bilingual documents in their own format: a file → `Document` of blocks → translated → the same format back.

Each format has a reader (bytes → `Source`: the `Document` the pipeline translates, plus what its
writer needs to find its way back into the file) and a writer (the original bytes + the
`BilingualDocument` → bytes, in one of three layouts). The bilingual JSON contract
(`translate_document` → `TranslateResponse`) stays the common form underneath: `bilingual()`
gives it per format (one block per subtitle cue, for instance).

    source = read_source(data, "docx")
    result = bilingual(source, translate_document(source.document, engine))
    data, suffix = write_source(source, result, "interleaved")
"""

from __future__ import annotations

import os

from models.document import BilingualDocument
from service.formats.base import FORMATS, MEDIA_TYPES, SUFFIXES, SUPPORTED, FormatError, Handler, Layout, Source
from service.formats.cuestyle import DEFAULT_CUE_STYLE, CueStyle
from service.jobs.limits import Limits

__all__ = [
    "DEFAULT_CUE_STYLE",
    "FORMATS",
    "MEDIA_TYPES",
    "SUFFIXES",
    "SUPPORTED",
    "CueStyle",
    "FormatError",
    "Handler",
    "Layout",
    "Limits",
    "Source",
]

LAYOUTS = tuple(Layout)
DEFAULT_LAYOUT = Layout.INTERLEAVED


def format_of(name: str) -> str | None:
    """The document format a file name says it is, or None."""
    return SUFFIXES.get(os.path.splitext(name.lower())[1])


def _handler(format: str) -> Handler:
    try:
        return FORMATS[format].load()
    except KeyError:
        raise ValueError(f"no reader for format {format!r}") from None


def supported() -> tuple[str, ...]:
    """The formats with a reader and a writer in this version."""
    return SUPPORTED


def read_source(data: bytes, format: str, caps: Limits = Limits()) -> Source:
    """Parse `data` as `format`; raises `FormatError` with a reason code."""
    return _handler(format).read(data, caps)


def bilingual(source: Source, result: BilingualDocument) -> BilingualDocument:
    """The translated Document as this format's bilingual JSON (subtitles: one block per cue)."""
    return _handler(source.format).bilingual(source, result)


def output_suffixes(format: str) -> tuple[str, ...]:
    """The suffixes a `format` file can be written back as, the default first (a PDF: .html, .epub)."""
    return FORMATS[format].outputs


def output_suffix(format: str) -> str:
    return output_suffixes(format)[0]


def write_source(
    source: Source,
    result: BilingualDocument,
    layout: str = DEFAULT_LAYOUT,
    suffix: str | None = None,
    style: CueStyle = DEFAULT_CUE_STYLE,
) -> bytes:
    """The file in its own format, French and English laid out as `layout` (`result` from `bilingual`);
    a subtitle's English line set apart by `style` in the bilingual layouts."""
    from service.formats.subtitles import Subtitles  # the only writer that takes a style

    try:
        chosen = Layout(layout)
    except ValueError:
        raise ValueError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}") from None
    suffixes = output_suffixes(source.format)
    suffix = suffix or suffixes[0]
    if suffix not in suffixes:
        raise ValueError(f"a {source.format} file is written as {' or '.join(suffixes)}, not {suffix}")
    handler = _handler(source.format)
    if isinstance(handler, Subtitles):
        return handler.write(source, result, chosen, suffix, style)
    return handler.write(source, result, chosen, suffix)
