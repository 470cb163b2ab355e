"""Zipped documents (DOCX, ODT, EPUB) and their XML parts, read under the archive guards.

A package is a zip: the archive caps apply to it as to any archive (`Limits`: entries, member
size, the parts together, the compression ratio; encrypted members refused). Its XML parts are
parsed without entities: a document type that declares any (`<!ENTITY`: XXE, billion laughs)
is refused before the parser sees it, and the parser never loads a DTD nor reaches the network.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping

from lxml import etree

from service.formats.base import FormatError
from service.jobs import limits
from service.jobs.limits import Limits, ratio_exceeded
from service.jobs.readers import _CORRUPT, _open_zip_member, _read_capped

UNSAFE_XML = "unsafe_xml"


def parse_xml(data: bytes, name: str = "part") -> etree._Element:
    """An XML part as a tree; a declared entity (XXE, billion laughs) or broken XML is a `FormatError`."""
    if _declares_entities(data):
        raise FormatError(UNSAFE_XML, f"{name}: declares XML entities (refused: external entities, entity bombs)")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise FormatError(limits.UNPARSABLE, f"{name}: not well-formed XML ({error})") from None
    if _declares_entities(data, root):
        raise FormatError(UNSAFE_XML, f"{name}: declares XML entities (refused: external entities, entity bombs)")
    return root


# `<!ENTITY` as the bytes of each encoding an XML parser recognizes without a declaration (XML 1.0, appendix F).
_ENTITY_BYTES = tuple(
    {
        word.encode(encoding)
        for word in ("<!ENTITY", "<!entity")
        for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
    }
)


def _declares_entities(data: bytes, root: etree._Element | None = None) -> bool:
    """`<!ENTITY` in the part's bytes, in UTF-8, -16 or -32; with `root`, an entity in the DTD the parser read,
    whatever its encoding (EBCDIC, UCS-4 in odd byte orders…): not one entity is ever resolved, and a
    part that declares any is refused rather than read with the text after its references dropped."""
    if root is None:
        return any(word in data for word in _ENTITY_BYTES)
    dtd = root.getroottree().docinfo.internalDTD
    return dtd is not None and next(iter(dtd.iterentities()), None) is not None


def serialize(root: etree._Element, standalone: bool | None = None) -> bytes:
    """The part again, with its XML declaration and document type."""
    tree = root.getroottree()
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8", standalone=standalone))


class Package:
    """A zipped document's parts, in their order, read once under the caps."""

    def __init__(self, data: bytes, caps: Limits, kind: str) -> None:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, *_CORRUPT) as error:
            raise FormatError(limits.UNPARSABLE, f"not a {kind} (not a zip: {error})") from None
        infos = archive.infolist()
        if len(infos) > caps.max_entries:
            raise FormatError(limits.TOO_MANY_ENTRIES, f"the {kind} holds {len(infos)} parts")
        total = 0
        self.infos: list[zipfile.ZipInfo] = []
        self.parts: dict[str, bytes] = {}
        for info in infos:
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise FormatError(limits.ENCRYPTED, f"{info.filename}: encrypted part")
            if info.file_size > caps.max_member_bytes:
                raise FormatError(limits.MEMBER_TOO_LARGE, f"{info.filename}: {info.file_size} bytes")
            if ratio_exceeded(info.file_size, info.compress_size, caps):
                raise FormatError(
                    limits.COMPRESSION_RATIO, f"{info.filename}: {info.file_size} bytes from {info.compress_size}"
                )
            total += info.file_size
            if total > min(caps.max_total_bytes, caps.max_document_bytes):
                raise FormatError(limits.TOTAL_TOO_LARGE, f"the {kind}'s parts expand past {total} bytes")
            try:
                with _open_zip_member(archive, info) as stream:
                    part = _read_capped(stream, info.file_size)
            except (*_CORRUPT, NotImplementedError, RuntimeError) as error:
                raise FormatError(
                    limits.UNREADABLE, f"{info.filename}: {type(error).__name__}: {error}"[:300]
                ) from None
            if part is None:
                raise FormatError(limits.MEMBER_TOO_LARGE, f"{info.filename}: more data than its header declared")
            self.infos.append(info)
            self.parts[info.filename] = part

    def xml(self, name: str) -> etree._Element:
        if name not in self.parts:
            raise FormatError(limits.UNPARSABLE, f"the document has no {name}")
        return parse_xml(self.parts[name], name)

    def write(self, replaced: dict[str, bytes], added: Iterable[tuple[str, bytes]] = ()) -> bytes:
        """The package again, every part byte for byte but `replaced`; a `mimetype` part stays first and stored."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for info in self.infos:
                name = info.filename
                copy = zipfile.ZipInfo(name, info.date_time)
                copy.external_attr = info.external_attr
                stored = name == "mimetype" or info.compress_type == zipfile.ZIP_STORED
                copy.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                archive.writestr(copy, replaced.get(name, self.parts[name]))
            for name, data in added:
                archive.writestr(name, data, zipfile.ZIP_DEFLATED)
        return out.getvalue()


def own_text(
    element: etree._Element,
    stop: frozenset[str],
    drop: frozenset[str] = frozenset(),
    marks: Mapping[str, str] | None = None,
) -> str:
    """The text of `element` itself: what descendants in `stop` hold (blocks of their own) is left out,
    and elements in `drop` (a note citation) give nothing; their tails count. An element in `marks`
    (a tab, a line break) stands for its string there, before its own text."""
    marks = marks or {}
    out: list[str] = [element.text or ""]
    stack: list[tuple[etree._Element, bool]] = [(child, False) for child in reversed(element)]
    while stack:
        node, closing = stack.pop()
        if closing:
            out.append(node.tail or "")
            continue
        stack.append((node, True))
        if not isinstance(node.tag, str) or node.tag in stop or node.tag in drop:
            continue
        out.append(marks.get(node.tag, ""))
        out.append(node.text or "")
        stack.extend((child, False) for child in reversed(node))
    return "".join(out)


def set_own_text(element: etree._Element, text: str, stop: frozenset[str]) -> None:
    """`element` holding `text` as its own text: inline children go with their text (emphasis and links
    become plain text); children that are or hold a `stop` element (nested blocks, notes, images) stay,
    without their tail."""
    element.text = text
    for child in list(element):
        if isinstance(child.tag, str) and (child.tag in stop or _holds(child, stop)):
            child.tail = None
        else:
            element.remove(child)


def _holds(element: etree._Element, tags: frozenset[str]) -> bool:
    return any(isinstance(node.tag, str) and node.tag in tags for node in element.iterdescendants())
