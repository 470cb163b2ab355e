"""A tiny PDF writer for the tests: Helvetica text lines (WinAnsiEncoding, accents included), image-only
pages, many pages; enough to give pypdf a real text layer without a PDF library that writes text."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    """One line of text at (x, y) points from the bottom left, in Helvetica of `size`."""

    text: str
    x: float = 72
    y: float = 720
    size: float = 12


# a page is its lines; or bytes: its content stream as is, Flate-compressed; or None: an image-only page
Page = Sequence[Line] | bytes | None


def _string(text: str) -> bytes:
    """A PDF literal string in WinAnsiEncoding: `\\`, parentheses and every non-ASCII byte escaped."""
    out = bytearray(b"(")
    for byte in text.encode("cp1252"):
        if byte in b"\\()":
            out += b"\\" + bytes([byte])
        elif 32 <= byte < 127:
            out.append(byte)
        else:
            out += b"\\%03o" % byte
    return bytes(out + b")")


def _content(page: Page) -> bytes:
    if page is None:
        return b"q 200 0 0 200 100 400 cm /Im1 Do Q\n"
    ops = [b"BT /F1 %g Tf 1 0 0 1 %g %g Tm %s Tj ET" % (line.size, line.x, line.y, _string(line.text)) for line in page]
    return b"\n".join(ops) + b"\n"


def _stream(body: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(body), extra, body)


def make_pdf(
    pages: Sequence[Page],
    title: str | None = None,
    count: int | None = None,
    forms: Mapping[str, bytes] | None = None,
    to_unicode: bytes | None = None,
) -> bytes:
    """A PDF of `pages`; `count` overrides the page tree's /Count (a lying header).

    `forms`: form XObjects by name, each a Flate-compressed content stream that every page (and
    every form: they may draw one another) can draw with `/name Do`. `to_unicode`: a ToUnicode
    map given to the font (Flate-compressed)."""
    objects: list[bytes] = []  # object n is objects[n - 1]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")
    tree = add(b"")
    unicode_map = b""
    if to_unicode is not None:
        packed_map = zlib.compress(to_unicode, 9)
        unicode_map = b" /ToUnicode %d 0 R" % add(_stream(packed_map, b"/Filter /FlateDecode "))
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding%s >>" % unicode_map)
    image = add(
        _stream(
            b"\x80", b"/Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 "
        )
    )
    kids = []
    numbers = {name: add(b"") for name in forms or {}}
    drawn = b"".join(b" /%s %d 0 R" % (name.encode(), number) for name, number in numbers.items())
    for name, number in numbers.items():
        packed_form = zlib.compress((forms or {})[name], 9)
        objects[number - 1] = _stream(
            packed_form,
            b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Filter /FlateDecode "
            b"/Resources << /Font << /F1 %d 0 R >> /XObject << %s >> >> " % (font, drawn),
        )

    shared: dict[bytes, int] = {}  # identical content streams are written once (a 10,000-page PDF stays small)
    for page in pages:
        content = page if isinstance(page, bytes) else _content(page)
        if content not in shared:
            packed = isinstance(page, bytes)
            shared[content] = add(
                _stream(zlib.compress(content, 9), b"/Filter /FlateDecode ") if packed else _stream(content)
            )
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R >> /XObject << /Im1 %d 0 R%s >> >> >>"
                % (tree, shared[content], font, image, drawn)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    refs = b" ".join(b"%d 0 R" % kid for kid in kids)
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, len(kids) if count is None else count)
    info = add(b"<< /Title %s >>" % _string(title)) if title is not None else None
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = b"/Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if info is not None:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n<< %s >>\nstartxref\n%d\n%%%%EOF\n" % (trailer, xref)
    return bytes(out)


def encrypt(data: bytes, user_password: str = "secret", owner_password: str = "owner") -> bytes:
    """`data` encrypted by pypdf (RC4-128: no cryptography package needed)."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password, owner_password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
