"""How much work reading one document may take: a budget proportional to the bytes it was given.

A hostile file can be small and still cost a great deal to read: a PDF form drawn thousands of
times (each drawing parses it again), a zipped part that inflates a thousandfold, runs nested
hundreds deep. So every reader spends from one `WorkBudget` per document, counted in *work
units*, about one byte of expanded content processed each: a PDF's content streams and font
maps each time text extraction reads them, a zipped document's parts as they are inflated and
parsed, an XML element as `ELEMENT` units. A document may spend `work_floor` plus
`work_per_byte` for every byte it was given (`Limits`; `BITEXT_ARCHIVE_WORK_*`); past it the
reader stops at once and the document is refused with the reason `too_much_work`, and a batch
goes on with the next one. What a reader does after the budget is spent (walking its tree,
writing the bilingual file) is linear in what was charged, which the doubling tests hold.
"""

from __future__ import annotations

from service.formats.base import FormatError
from service.jobs.limits import Limits
from service.jobs.reasons import Reason

# What visiting one XML element or PDF operator costs, in work units (bytes of content).
ELEMENT = 16


class OutOfWork(BaseException):
    """Raised inside a library's callback (a BaseException, so `except Exception` in the library cannot
    swallow it); the reader turns it into the budget's `FormatError` at its own level."""

    def __init__(self, error: FormatError) -> None:
        super().__init__(str(error))
        self.error = error


class WorkBudget:
    """The work units one document may still spend; `charge` raises `FormatError(too_much_work)` past them."""

    def __init__(self, allowed: int, kind: str, per_byte: int = 0) -> None:
        self.allowed, self.kind, self.per_byte = allowed, kind, per_byte
        self.spent = 0

    @classmethod
    def for_input(cls, size: int, caps: Limits, kind: str) -> WorkBudget:
        """The budget of a `kind` document of `size` bytes: the floor plus so much per byte, capped."""
        allowed = min(caps.max_document_work, caps.work_floor + caps.work_per_byte * size)
        return cls(allowed, kind, caps.work_per_byte)

    @property
    def left(self) -> int:
        return max(self.allowed - self.spent, 0)

    def charge(self, units: int, what: str) -> None:
        """Spend `units` on `what`; past the budget, the document is refused saying what took it there."""
        self.spent += units
        if self.spent > self.allowed:
            raise self.refusal(what)

    def refusal(self, what: str) -> FormatError:
        return FormatError(
            Reason.TOO_MUCH_WORK,
            f"reading this {self.kind} takes more work than its size allows ({what}): more than {self.allowed} "
            f"units, about one per byte of content processed (a document may take {self.per_byte} per byte "
            "it holds; BITEXT_ARCHIVE_WORK_PER_BYTE)",
        )
