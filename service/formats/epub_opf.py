"""An EPUB's package document (`content.opf`): where its parts are, and its metadata written for the output.

The output is a book of its own: a new identifier (a UUID derived from the source's identifier and the
layout, so the same book in the same layout always gets the same one; the source's identifier is kept as
`dc:source`), a title that says what it is ("Titre — Title (bilingual)", or the English title), the
languages it holds (`en`; or the source's and `en`), a new modification date, and the layouts' stylesheet
in the manifest. Everything else in it is kept.
"""

from __future__ import annotations

import posixpath
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from models.document import BilingualBlock
from service.formats.base import FormatError, Layout
from service.formats.epub_xhtml import LETTER, XML_LANG, plain
from service.formats.package import Package
from service.formats.work import WorkBudget
from service.jobs.reasons import Reason

OPF = "http://www.idpf.org/2007/opf"
DC = "http://purl.org/dc/elements/1.1/"
CONTAINER = "urn:oasis:names:tc:opendocument:xmlns:container"
XHTML_TYPE = "application/xhtml+xml"
NCX_TYPE = "application/x-dtbncx+xml"
CSS_TYPE = "text/css"
# every output identifier is a UUID in this namespace, named by the source's identifier and the layout
_NAMESPACE = uuid.UUID("3f0c6a52-93a4-4e61-9d0e-7c1b7b5c2a10")
_MODIFIED = "dcterms:modified"


def opf(tag: str) -> str:
    return f"{{{OPF}}}{tag}"


def dc(tag: str) -> str:
    return f"{{{DC}}}{tag}"


@dataclass(frozen=True, slots=True)
class Book:
    """Where an EPUB's parts are, from its package document."""

    opf: str  # the package document's path
    spine: tuple[str, ...]  # the XHTML documents in reading order
    nav: str | None  # the navigation document
    ncx: str | None  # the EPUB 2 table of contents, if any
    titles: tuple[str, ...]  # each `dc:title` with words, in order
    identifier: str  # the source's unique identifier

    def href(self, path: str) -> str:
        """A path in the package as the package document names it."""
        return posixpath.relpath(path, posixpath.dirname(self.opf) or ".")


def read_book(package: Package, budget: WorkBudget) -> Book:
    container = package.xml("META-INF/container.xml", budget)
    rootfile = container.find(f".//{{{CONTAINER}}}rootfile")
    if rootfile is None or not rootfile.get("full-path"):
        raise FormatError(Reason.UNPARSABLE, "META-INF/container.xml names no package document")
    name = rootfile.get("full-path", "")
    root = package.xml(name, budget)
    documents, nav, ncx = {}, None, None
    for item in root.iter(opf("item")):
        path = posixpath.normpath(posixpath.join(posixpath.dirname(name), item.get("href", "")))
        if path.startswith("..") or path not in package.by_name:
            continue
        media = item.get("media-type")
        if media == XHTML_TYPE:
            documents[item.get("id")] = path
            if "nav" in (item.get("properties") or "").split():
                nav = path
        elif media == NCX_TYPE:
            ncx = path
    spine = [documents[ref.get("idref")] for ref in root.iter(opf("itemref")) if ref.get("idref") in documents]
    titles = (plain(title.text or "") for title in root.iter(dc("title")))
    identifier = _identifier(root)
    return Book(
        name,
        tuple(dict.fromkeys(spine)),
        nav,
        ncx,
        tuple(title for title in titles if LETTER.search(title)),
        (identifier.text or "").strip() if identifier is not None else "",
    )


def _identifier(root: etree._Element) -> etree._Element | None:
    """The package's unique identifier (`unique-identifier` names its `dc:identifier`)."""
    wanted = root.get("unique-identifier")
    identifiers = list(root.iter(dc("identifier")))
    return next((i for i in identifiers if i.get("id") == wanted), identifiers[0] if identifiers else None)


def output_identifier(book: Book, layout: Layout) -> str:
    """The output's identifier: the same for the same source and layout, another for each layout."""
    name = "\n".join((book.identifier, layout.value))
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"


def book_title(block: BilingualBlock, layout: Layout, main: bool = True) -> str:
    """A title in `layout`: the English; or "Titre — Title (bilingual)" (the main title says it)."""
    if layout == Layout.ENGLISH:
        return block.en
    both = block.fr if block.en in ("", block.fr) else f"{block.fr} — {block.en}"
    return f"{both} (bilingual)" if main else both


def rewrite(
    root: etree._Element,
    book: Book,
    layout: Layout,
    titles: list[BilingualBlock],
    stylesheet: str | None,
    now: datetime | None = None,
) -> None:
    """The package document made the output's: identifier, titles, languages, date, stylesheet."""
    metadata = root.find(opf("metadata"))
    if metadata is None:
        return
    identifier = _identifier(root)
    if identifier is not None:
        _keep_as_source(root, identifier)
        identifier.text = output_identifier(book, layout)
    elements = [title for title in metadata.iter(dc("title")) if LETTER.search(title.text or "")]
    for n, (element, block) in enumerate(zip(elements, titles, strict=True)):
        if block.translated:
            element.text = book_title(block, layout, main=n == 0)
    _languages(metadata, layout)
    if layout == Layout.ENGLISH and root.get(XML_LANG):
        root.set(XML_LANG, "en")
    _modified(root, metadata, now or datetime.now(UTC))
    if stylesheet is not None:
        manifest = root.find(opf("manifest"))
        if manifest is not None:
            ids = {item.get("id") for item in manifest}
            name = next(f"bitext-css{n or ''}" for n in range(len(ids) + 1) if f"bitext-css{n or ''}" not in ids)
            item = etree.SubElement(manifest, opf("item"), {"id": name, "media-type": CSS_TYPE})
            item.set("href", book.href(stylesheet))


def _keep_as_source(root: etree._Element, identifier: etree._Element) -> None:
    """The source's identifier kept as `dc:source`, with what says what kind it is (an ISBN: EPUB 2's
    `opf:scheme`, EPUB 3's `identifier-type` refinement)."""
    if not (identifier.text or "").strip():
        return
    source = etree.Element(dc("source"))
    source.text, source.tail = identifier.text, identifier.tail
    for name, value in identifier.attrib.items():
        if name != "id":
            source.set(name, value)
            del identifier.attrib[name]
    identifier.addnext(source)
    own = identifier.get("id")
    refining = [m for m in root.iter(opf("meta")) if own and m.get("refines") == f"#{own}"]
    if refining:
        source.set("id", f"{own}-source")
        for meta in refining:
            meta.set("refines", f"#{own}-source")


def _languages(metadata: etree._Element, layout: Layout) -> None:
    """`en` alone for the English book; the source's language(s) and `en` for a bilingual one."""
    languages = list(metadata.iter(dc("language")))
    english = [element for element in languages if (element.text or "").strip().lower().startswith("en")]
    if layout == Layout.ENGLISH:
        for element in languages[1:]:
            metadata.remove(element)
        if languages:
            languages[0].text = "en"
        else:
            etree.SubElement(metadata, dc("language")).text = "en"
    elif not english:
        added = etree.Element(dc("language"))
        added.text = "en"
        if languages:
            added.tail = languages[-1].tail
            languages[-1].addnext(added)
        else:
            metadata.append(added)


def _modified(root: etree._Element, metadata: etree._Element, now: datetime) -> None:
    """`dcterms:modified` set to now (EPUB 3 requires it; an EPUB 2 package gets it only if it had one)."""
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    found = [meta for meta in metadata.iter(opf("meta")) if meta.get("property") == _MODIFIED]
    for meta in found:
        meta.text = stamp
    if not found and (root.get("version") or "").startswith("3"):
        etree.SubElement(metadata, opf("meta"), {"property": _MODIFIED}).text = stamp


def unused_name(package: Package, path: str) -> str:
    """`path`, or `path` with a number before its suffix, not yet a part of `package`."""
    stem, suffix = posixpath.splitext(path)
    return next(
        name for n in range(len(package.by_name) + 2) if (name := f"{stem}{n or ''}{suffix}") not in package.by_name
    )
