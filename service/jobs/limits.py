"""What a hostile archive may not do (the codes recorded when a member is refused are `reasons.Reason`).

Checked before any member is read into memory, and again while it is read (headers can lie).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.jobs.reasons import Reason

_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps for one archive; the defaults come from `Settings` in the service and the CLI."""

    max_member_bytes: int = 20_000_000
    max_total_bytes: int = 5_000_000_000
    max_ratio: float = 100.0
    # Small members compress well for innocent reasons (runs of spaces); only judge the ratio past this.
    ratio_floor_bytes: int = 1_000_000
    # Members (and JSONL lines, WARC records, directory entries) one archive may hold; the rest are not read.
    max_entries: int = 100_000
    # A compressed tar stream as a whole is judged against `max_ratio` past this many expanded bytes.
    stream_ratio_floor_bytes: int = 64_000_000
    # One header: a tar PAX/GNU long-name header, the global PAX headers together, a WARC record's header block.
    max_header_bytes: int = 1_000_000
    # A zipped document (DOCX, ODT, EPUB): all its parts expanded together.
    max_document_bytes: int = 200_000_000
    # A PDF: most pages, and characters of text, it may hold (past either it is refused, not cut short).
    max_pdf_pages: int = 2_000
    max_pdf_chars: int = 5_000_000
    # The work reading one document may take (`service.formats.work`): this floor plus so much per byte
    # it was given, in units of about one byte of expanded content processed; never more than the cap.
    work_floor: int = 1_000_000
    work_per_byte: int = 64
    max_document_work: int = 400_000_000


def unsafe_name(name: str) -> Reason | None:
    """The reason a member name must not be used, or None: absolute, drive-relative or escaping with `..`."""
    normal = name.replace("\\", "/")
    if normal.startswith("/") or _DRIVE.match(normal) or "\x00" in normal:
        return Reason.ABSOLUTE_PATH
    if ".." in normal.split("/"):
        return Reason.PATH_TRAVERSAL
    return None


def ratio_exceeded(uncompressed: int, compressed: int, limits: Limits) -> bool:
    """True when `uncompressed` bytes came out of `compressed` at a ratio that looks like a bomb."""
    return uncompressed > limits.ratio_floor_bytes and uncompressed > limits.max_ratio * max(compressed, 1)
