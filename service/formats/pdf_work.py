"""A PDF's text extraction charged to its document's `WorkBudget`, as pypdf does the work.

pypdf parses a page's content stream and builds every font of its resources (reading their
`ToUnicode` maps, expanding their ranges, reading their width tables) each time it extracts a page,
and does the same again for a form XObject at every `Do` that draws it: a few kilobytes can ask for
minutes. `Meter` charges each page before extraction and each form at its `Do` (from pypdf's
operator callback, raising `OutOfWork`, which pypdf's `except Exception` cannot swallow), with sizes
measured once per object and charged at every use.
"""

from __future__ import annotations

import re
from typing import Any

from service.formats.base import FormatError
from service.formats.work import ELEMENT, OutOfWork, WorkBudget
from service.jobs.reasons import Reason

# Work units of pypdf's fixed costs, measured against its content parsing (about 1 µs a unit): one
# extraction of a page or form, and building one font (its 256-code encoding and widths) for it
READING = 128
FONT = 256
# pypdf's text extraction draws at most this many forms on one page and silently skips the rest
FORMS_PER_PAGE = 5_000
# What pypdf reads of a font to extract text: these entries are followed (each object once); the
# glyph programs (`FontFile*`), `CIDToGIDMap` and a Type3 font's `CharProcs` streams are not read
_FONT_KEYS = frozenset(
    {"/ToUnicode", "/Encoding", "/BaseEncoding", "/Differences", "/Widths", "/DescendantFonts", "/W", "/FontDescriptor"}
)


class Meter:
    """Charges a PDF's text extraction to the document's `WorkBudget`, as pypdf does the work.

    pypdf parses a page's content stream and builds every font of its resources (reading their
    `ToUnicode` maps and width tables) each time it extracts a page, and does the same again for
    a form XObject at every `Do` that draws it. The page is charged before extraction; a form at
    its `Do`, from the operator callback, before pypdf reads it: the resources in force are kept
    on a stack that follows pypdf's recursion (`before` pushes the drawn form's resources, `after`
    pops them). Sizes are measured once per object and charged at every use.
    """

    def __init__(self, budget: WorkBudget) -> None:
        self.budget = budget
        self.sizes: dict[int, tuple[Any, int]] = {}  # id(object) → (object kept alive, its size)
        self.resources: list[Any] = []
        self.forms = 0

    def page(self, page: Any, content_bytes: int) -> None:
        self.resources = [_resources(page)]
        self.forms = 0
        self.budget.charge(
            READING + content_bytes + self._fonts(self.resources[0]), "a page's content and fonts as read for text"
        )

    def before(self, operator: bytes, operands: Any, cm: Any, tm: Any) -> None:
        if operator != b"Do":
            return
        form = _form(self.resources[-1] if self.resources else None, operands)
        self.resources.append(_resources(form) if form is not None else None)
        if form is None:
            return
        self.forms += 1
        try:
            if self.forms > FORMS_PER_PAGE:
                raise FormatError(
                    Reason.TOO_MUCH_WORK, f"a page draws more than {FORMS_PER_PAGE} forms (pypdf would skip the rest)"
                )
            self.budget.charge(
                READING + self._size(form, self._stream) + self._fonts(self.resources[-1]),
                "a form XObject drawn again and again",
            )
        except FormatError as error:
            raise OutOfWork(error) from None  # past pypdf's `except Exception` around a form

    def after(self, operator: bytes, operands: Any, cm: Any, tm: Any) -> None:
        if operator == b"Do" and len(self.resources) > 1:
            self.resources.pop()

    def _fonts(self, resources: Any) -> int:
        """What building every font of `resources` costs pypdf. No font goes uncounted: the count stops only
        once it is past what the budget has left, where the caller's charge refuses the document anyway."""
        fonts = _get(resources, "/Font")
        if not hasattr(fonts, "values"):
            return 0
        total = 0
        for font in fonts.values():
            total += FONT + self._size(font, self._graph)
            if total > self.budget.left:
                break
        return total

    def _size(self, obj: Any, measure: Any) -> int:
        try:
            obj = obj.get_object()
        except Exception:  # noqa: BLE001 - a broken reference costs nothing to read
            return 0
        known = self.sizes.get(id(obj))
        if known is None:
            known = self.sizes[id(obj)] = (obj, measure(obj))
        return known[1]

    def _stream(self, obj: Any) -> int:
        try:
            data = obj.get_data()
        except Exception:  # noqa: BLE001 - pypdf fails on it the same way and reads nothing
            return 0
        self.budget.charge(len(data), "a stream inflated")
        return len(data)

    def _graph(self, root: Any) -> int:
        """What building a font reads: the entries pypdf follows, their arrays and streams (maps), each once."""
        total, seen, stack = 0, set(), [root]
        while stack and total <= self.budget.left:  # past what is left it would not fit anyway
            obj = stack.pop()
            try:
                obj = obj.get_object()
            except Exception:  # noqa: BLE001 - a broken reference: nothing to read
                continue
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            total += ELEMENT
            if hasattr(obj, "get_data") and obj is not root:
                total += self._stream(obj) + CODE * _mapped_codes(obj)
            if hasattr(obj, "items"):
                items = list(obj.items())
                total += len(items)
                stack += [value for key, value in items if key in _FONT_KEYS]
            elif isinstance(obj, list):
                total += len(obj)
                stack += [item for item in obj if isinstance(item, list) or hasattr(item, "get_object")]
        return total


# A range line of a character map (`<0000> <FFFF> <0041>`, or a CID range's `… 1`): a few bytes
# that pypdf expands into one map entry per code, each time it builds the font
_RANGE_SECTION = re.compile(rb"begin(?:bf|cid)range|end(?:bf|cid)range")
_RANGE = re.compile(rb"<([0-9A-Fa-f]{1,8})>\s*<([0-9A-Fa-f]{1,8})>\s*(?:<[0-9A-Fa-f\s]*>|\[[^\]]*\]|\d+)")
CODE = 2  # work units per code a map's ranges expand to (pypdf builds each entry in Python)
_MAX_CODES = 1_000_000  # past pypdf's own cap on a map (100,000 entries): it refuses such a font anyway


def _mapped_codes(stream: Any) -> int:
    """How many codes the ranges of a character map stream expand to (0 for any other stream)."""
    try:
        data = stream.get_data()
    except Exception:  # noqa: BLE001 - unreadable: pypdf reads nothing from it either
        return 0
    if b"range" not in data:
        return 0
    codes, inside, at = 0, False, 0
    for marker in _RANGE_SECTION.finditer(data):
        if inside:
            for found in _RANGE.finditer(data, at, marker.start()):
                codes += max(0, int(found.group(2), 16) - int(found.group(1), 16) + 1)
                if codes > _MAX_CODES:
                    return _MAX_CODES
        inside, at = marker.group().startswith(b"begin"), marker.end()
    return codes


def _get(obj: Any, key: str) -> Any:
    try:
        return obj.get(key).get_object() if obj is not None and obj.get(key) is not None else None
    except Exception:  # noqa: BLE001 - a broken entry reads as missing, as pypdf reads it
        return None


def _resources(obj: Any) -> Any:
    try:
        return obj.get_inherited("/Resources", None).get_object() if obj is not None else None
    except Exception:  # noqa: BLE001
        return _get(obj, "/Resources")


def _form(resources: Any, operands: Any) -> Any:
    """The form XObject a `Do` draws, or None (an image, or nothing pypdf would read)."""
    xobjects = _get(resources, "/XObject")
    try:
        found = xobjects[operands[0]].get_object() if xobjects is not None and operands else None
    except Exception:  # noqa: BLE001 - a name that is not there: pypdf draws nothing
        return None
    if found is None or not hasattr(found, "get_data") or found.get("/Subtype") == "/Image":
        return None
    return found
