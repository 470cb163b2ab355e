"""What the DOCX and ODT handlers share: one read → bilingual → write skeleton over a zipped package.

A handler opens the package under the archive caps with the document's `WorkBudget`, finds its
paragraphs (`parse`: the blocks, and the state its writer needs), and writes back only the parts it
edits (`rewrite`), every other part copied byte for byte by `Package.write`. The paragraphs' English
goes in place (`english`) or after each French paragraph (`interleaved`) by `place`; side by side is
each format's own table.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Protocol, TypeVar

from lxml import etree

from models.document import BilingualDocument, Block, Document
from service.formats.base import Layout, Source
from service.formats.package import Package
from service.formats.work import WorkBudget
from service.jobs.limits import Limits

English = TypeVar("English")


class HasPackage(Protocol):
    """A reader's state: at least the package it read."""

    @property
    def package(self) -> Package: ...


def paragraph_document(blocks: Sequence[Block], kind: str) -> Document:
    """The blocks as a Document, a blank line between each two."""
    return Document(tuple(blocks), ("", *(["\n\n"] * len(blocks))), kind)


def place(
    found: Iterable[etree._Element],
    english: Mapping[int, English],
    layout: Layout,
    replace: Callable[[etree._Element, English], None],
    copy: Callable[[etree._Element, English], etree._Element],
) -> None:
    """Each paragraph of `found` with an English: replaced by it (`english`), or followed by its copy."""
    for paragraph in found:
        if id(paragraph) not in english:
            continue
        if layout == Layout.ENGLISH:
            replace(paragraph, english[id(paragraph)])
        else:
            paragraph.addnext(copy(paragraph, english[id(paragraph)]))


class PackagedText(ABC):
    """A zipped text document (DOCX, ODT) read into paragraphs and written back with the parts it edits."""

    kind: ClassVar[str]
    label: ClassVar[str]  # how errors name the format: "DOCX"

    def read(self, data: bytes, caps: Limits) -> Source:
        package = Package(data, caps, self.label)
        budget = WorkBudget.for_input(len(data), caps, self.label)
        blocks, state = self.parse(package, budget)
        return Source(self.kind, data, paragraph_document(blocks, self.kind), state)

    def bilingual(self, source: Source, result: BilingualDocument) -> BilingualDocument:
        return dataclasses.replace(result, format=self.kind)

    def write(self, source: Source, result: BilingualDocument, layout: Layout, suffix: str) -> bytes:
        state: HasPackage = source.state
        return state.package.write(self.rewrite(state, result, layout))

    @abstractmethod
    def parse(self, package: Package, budget: WorkBudget) -> tuple[list[Block], Any]:
        """The document's blocks, and what `rewrite` needs (with `package`)."""

    @abstractmethod
    def rewrite(self, state: Any, result: BilingualDocument, layout: Layout) -> dict[str, bytes]:
        """The parts the bilingual document changes, by name."""
