"""Zipped documents (DOCX, ODT, EPUB) and their XML parts, read under the archive guards.

A package is a zip: the archive caps apply to it as to any archive (`Limits`: entries, member
size, the parts together, the compression ratio; encrypted members refused). Its XML parts are
parsed without entities: a document type that declares any (`<!ENTITY`: XXE, billion laughs)
is refused before the parser sees it, and the parser never loads a DTD nor reaches the network.
Parts stay compressed in memory (`Package`); what a reader parses is charged to its `WorkBudget`.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping

from lxml import etree

from service.formats.base import FormatError
from service.formats.work import ELEMENT, WorkBudget
from service.jobs.limits import Limits, ratio_exceeded
from service.jobs.readers import CORRUPT, open_zip_member, read_capped
from service.jobs.reasons import Reason


def parse_xml(data: bytes, name: str = "part") -> etree._Element:
    """An XML part as a tree; a declared entity (XXE, billion laughs) or broken XML is a `FormatError`."""
    if _declares_entities(data):
        raise FormatError(
            Reason.UNSAFE_XML, f"{name}: declares XML entities (refused: external entities, entity bombs)"
        )
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise FormatError(Reason.UNPARSABLE, f"{name}: not well-formed XML ({error})") from None
    if _declares_entities(data, root):
        raise FormatError(
            Reason.UNSAFE_XML, f"{name}: declares XML entities (refused: external entities, entity bombs)"
        )
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
    """A zipped document read under the caps; its parts stay compressed until one is asked for.

    Every part is inflated once as the package is opened, a chunk at a time and never kept, to
    check it against the caps: its size, its compression ratio (a part under
    `ratio_floor_bytes` is not judged alone), and the parts together against the ratio from the
    document's own bytes, so a small document cannot hold hundreds of small parts that inflate
    a thousandfold. Afterwards only the parts a reader parses are inflated again (`xml`, charged
    to the document's `WorkBudget`), and `write` copies the others one at a time: a package in
    memory costs its compressed bytes, not what they expand to. The zip's directory is read once:
    the package keeps one open `ZipFile` over its bytes for every read and for `write`.
    """

    def __init__(self, data: bytes, caps: Limits, kind: str) -> None:
        self.data, self.caps, self.kind = data, caps, kind
        try:
            self._archive = zipfile.ZipFile(io.BytesIO(data))  # the one open of the package: reads and writes use it
        except (zipfile.BadZipFile, *CORRUPT) as error:
            raise FormatError(Reason.UNPARSABLE, f"not a {kind} (not a zip: {error})") from None
        infos = self._archive.infolist()
        if len(infos) > caps.max_entries:
            raise FormatError(Reason.TOO_MANY_ENTRIES, f"the {kind} holds {len(infos)} parts")
        self.expanded = 0
        self.infos: list[zipfile.ZipInfo] = []
        for info in infos:
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise FormatError(Reason.ENCRYPTED, f"{info.filename}: encrypted part")
            if info.file_size > caps.max_member_bytes:
                raise FormatError(Reason.MEMBER_TOO_LARGE, f"{info.filename}: {info.file_size} bytes")
            if ratio_exceeded(info.file_size, info.compress_size, caps):
                raise FormatError(
                    Reason.COMPRESSION_RATIO, f"{info.filename}: {info.file_size} bytes from {info.compress_size}"
                )
            self.expanded += info.file_size
            self._check_total()
            self._inflate(info, keep=False)  # a header can lie: the real size is what counts
            self.infos.append(info)
        self.by_name = {info.filename: info for info in self.infos}

    def _check_total(self) -> None:
        if self.expanded > min(self.caps.max_total_bytes, self.caps.max_document_bytes):
            raise FormatError(Reason.TOTAL_TOO_LARGE, f"the {self.kind}'s parts expand past {self.expanded} bytes")
        if ratio_exceeded(self.expanded, len(self.data), self.caps):
            raise FormatError(
                Reason.COMPRESSION_RATIO,
                f"the {self.kind}'s parts expand to {self.expanded} bytes from {len(self.data)}, more than "
                f"{self.caps.max_ratio:g} times",
            )

    def _inflate(self, info: zipfile.ZipInfo, keep: bool = True) -> bytes:
        """One part inflated a chunk at a time, never past its declared size (kept, or only counted)."""
        try:
            with open_zip_member(self._archive, info) as stream:
                part = read_capped(stream, info.file_size, keep=keep)
        except (*CORRUPT, NotImplementedError, RuntimeError) as error:
            raise FormatError(Reason.UNREADABLE, f"{info.filename}: {type(error).__name__}: {error}"[:300]) from None
        if part is None:
            raise FormatError(Reason.MEMBER_TOO_LARGE, f"{info.filename}: more data than its header declared")
        return part

    def read(self, name: str) -> bytes:
        """One part's bytes, inflated now (not kept)."""
        info = self.by_name.get(name)
        if info is None:
            raise FormatError(Reason.UNPARSABLE, f"the document has no {name}")
        return self._inflate(info)

    def xml(self, name: str, budget: WorkBudget | None = None) -> etree._Element:
        """A part parsed; reading (not writing back) charges its bytes and elements to the document's budget."""
        data = self.read(name)
        if budget is not None:
            budget.charge(len(data), f"{name} parsed")
        root = parse_xml(data, name)
        if budget is not None:
            budget.charge(ELEMENT * sum(1 for _ in root.iter()), f"the elements of {name}")
        return root

    def write(self, replaced: dict[str, bytes], added: Iterable[tuple[str, bytes]] = ()) -> bytes:
        """The package again, every part byte for byte but `replaced`; a `mimetype` part stays first and stored.
        The parts are copied one at a time: one inflated part is in memory at once."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for info in self.infos:
                name = info.filename
                copy = zipfile.ZipInfo(name, info.date_time)
                copy.external_attr = info.external_attr
                stored = name == "mimetype" or info.compress_type == zipfile.ZIP_STORED
                copy.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                archive.writestr(copy, replaced[name] if name in replaced else self._inflate(info))
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
