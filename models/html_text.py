"""HTML in, HTML out: only the text nodes are translated, the markup is kept (lxml's HTML parser).

`HtmlText.parse(html)` lists the translatable text of every text node (without its surrounding
whitespace); `render(english)` gives the same HTML back with each node's text replaced, its
whitespace, tags, attributes, comments, scripts and styles untouched. Text is skipped inside
`script`, `style`, `code`-like elements, `translate="no"` regions (the HTML standard's signal)
and any extra tags the caller names (DeepL's `ignore_tags`).

The parser re-serialises what it read: entities come back as characters (`&nbsp;` → U+00A0),
attribute quoting is normalised and unclosed tags are closed. The document means the same; it
is not byte-identical.

libxml2 stops building the tree about 255 elements deep and drops everything below without an
error, so a page nested deeper than `MAX_DEPTH` is refused (`HtmlTooDeep`) rather than
translated with its text silently missing.
"""

from __future__ import annotations

import copy
import html as html_escape
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import lxml.html
from lxml import etree

from models.markup import HTML, HTML_KINDS, html_attrs, start_tag

SKIPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "code", "kbd", "samp", "var", "pre", "textarea", "svg", "math"}
)

Slot = tuple[etree._Element, Literal["text", "tail", "inner"]]


MAX_DEPTH = 200  # well under libxml2's limit (255), past which it drops the deeper text


class HtmlError(ValueError):
    """The input cannot be read as HTML at all."""


class HtmlTooDeep(HtmlError):
    """Elements nested deeper than `MAX_DEPTH`: the parser would lose their text."""


def depth(root: etree._Element) -> int:
    """How many elements deep the tree goes (iterative: no recursion limit to hit)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        element, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in element)
    return deepest


def _is_document(markup: str) -> bool:
    """A whole page (doctype or <html>) is kept as a page; anything else is a fragment."""
    head = markup.lstrip()[:9].lower()
    return head.startswith("<!doctype") or head.startswith("<html")


def _skipped(element: etree._Element, inherited: bool, ignore: frozenset[str]) -> bool:
    if not isinstance(element.tag, str):  # comments, processing instructions
        return True
    tag = element.tag.lower()
    flag = (element.get("translate") or "").strip().lower()
    if tag in SKIPPED_TAGS or tag in ignore:
        return True
    if flag == "no":
        return True
    if flag == "yes":
        return False
    return inherited


def _slots(root: etree._Element, ignore: frozenset[str]) -> Iterator[Slot]:
    """Every text node that may be translated, in document order: (element, 'text' | 'tail')."""

    def walk(element: etree._Element, inherited: bool) -> Iterator[Slot]:
        skip = _skipped(element, inherited, ignore)
        if not skip and len(element) and _inline_only(element, ignore):
            yield element, "inner"  # text with links and emphasis: one run, markup carried over
            return
        if not skip and element.text:
            yield element, "text"
        for child in element:
            yield from walk(child, skip)
            if not skip and child.tail:  # a child's tail is the parent's text
                yield child, "tail"

    yield from walk(root, False)


def _inline_only(element: etree._Element, ignore: frozenset[str]) -> bool:
    """Every descendant is an inline element bitext carries (a, b, strong, i, em, code, span)."""
    for child in element.iterdescendants():
        if not isinstance(child.tag, str) or child.tag.lower() not in HTML_KINDS or child.tag.lower() in ignore:
            return False
        if (child.get("translate") or "").strip().lower() == "no":
            return False
        if child.tag.lower() == "a" and any(p.tag == "a" for p in child.iterancestors() if isinstance(p.tag, str)):
            return False
    return True


def _inner_markup(element: etree._Element) -> str:
    """The element's content as the fragment `models.markup.parse_html_inline` reads."""
    out = [html_escape.escape(element.text or "", quote=False)]
    for child in element:
        tag = child.tag.lower()
        out += [start_tag(tag, html_attrs(tag, list(child.attrib.items()))), _inner_markup(child), f"</{tag}>"]
        out.append(html_escape.escape(child.tail or "", quote=False))
    return "".join(out)


def _set_inner(element: etree._Element, markup: str) -> None:
    fragment = lxml.html.fragment_fromstring(f"<div>{markup}</div>")
    for child in list(element):
        element.remove(child)
    element.text = fragment.text
    for child in list(fragment):
        element.append(child)


def _read(element: etree._Element, attribute: str) -> str:
    return _inner_markup(element) if attribute == "inner" else getattr(element, attribute) or ""


def _split_space(text: str) -> tuple[str, str, str]:
    """(leading whitespace, core, trailing whitespace): only the core goes to the model."""
    core = text.strip()
    if not core:
        return text, "", ""
    start = text.index(core)
    return text[:start], core, text[start + len(core) :]


@dataclass(frozen=True)
class HtmlText:
    """A parsed HTML input and the text of its translatable nodes, in document order."""

    root: etree._Element
    document: bool
    doctype: str | None  # the page's own doctype; libxml2's default one is never added
    lead: str  # whitespace before a fragment's first tag, which libxml2 drops
    ignore: frozenset[str]
    texts: tuple[str, ...]
    markups: tuple[str, ...] = ()  # per text: "html" for a run of inline markup, "" for a plain text node

    @classmethod
    def parse(cls, markup: str, ignore_tags: Sequence[str] = ()) -> HtmlText:
        ignore = frozenset(tag.strip().lower() for tag in ignore_tags if tag.strip())
        document = _is_document(markup)
        body = markup.lstrip()
        lead = "" if document else markup[: len(markup) - len(body)]
        try:
            root = (
                lxml.html.document_fromstring(markup)
                if document
                else lxml.html.fragment_fromstring(body, create_parent="div")
            )
        except (etree.ParserError, ValueError) as error:
            raise HtmlError(f"not readable as HTML: {error}") from None
        if depth(root) > MAX_DEPTH:
            raise HtmlTooDeep(f"the HTML is nested too deeply: more than {MAX_DEPTH} levels of elements")
        texts = []
        markups = []
        for element, attribute in _slots(root, ignore):
            core = _split_space(_read(element, attribute))[1]
            if any(ch.isalpha() for ch in core):
                texts.append(core)
                markups.append(HTML if attribute == "inner" else "")
        has_doctype = markup.lstrip()[:9].lower() == "<!doctype"
        doctype = root.getroottree().docinfo.doctype if has_doctype else None
        return cls(root, document, doctype or None, lead, ignore, tuple(texts), tuple(markups))

    def render(self, english: Sequence[str]) -> str:
        """The HTML with `english[i]` in place of `texts[i]`; the parsed tree is left as it was."""
        if len(english) != len(self.texts):
            raise ValueError(f"{len(english)} translations for {len(self.texts)} text nodes")
        root = copy.deepcopy(self.root)
        replacements = iter(english)
        for element, attribute in _slots(root, self.ignore):
            lead, core, trail = _split_space(_read(element, attribute))
            if any(ch.isalpha() for ch in core):
                if attribute == "inner":
                    _set_inner(element, lead + next(replacements) + trail)
                else:
                    setattr(element, attribute, lead + next(replacements) + trail)
        if self.document:
            return lxml.html.tostring(root, encoding="unicode", doctype=self.doctype)
        inner = self.lead + html_escape.escape(root.text or "", quote=False)
        return inner + "".join(lxml.html.tostring(child, encoding="unicode", with_tail=True) for child in root)
