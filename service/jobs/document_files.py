"""A job's documents written back in their own format: their names, which layouts a record has, and how to serve one.

Each file is named from the document's own name: `docs/<stem>.<layout><suffix>` (`docs/note.interleaved.docx`),
the stem from `names.Stems`, unique within the output (a second `note` is `note-2`). The runner lists them
under the record's `documents`; these helpers read that list back, so the jobs API and index.html can say
which files exist and hand one out with its media type and a download name. Records written before files
were named this way (`docs/<id>.<layout><suffix>`) read back the same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from service import formats
from service.jobs import outputs
from service.jobs.names import Stems, safe_stem


def is_document_format(format: str) -> bool:
    """Whether a document of `format` is written back in its own format (and so gets bilingual files)."""
    return format in formats.SUFFIXES.values()


def file_path(stem: str, layout: str, suffix: str) -> str:
    return f"{outputs.DOCS}/{stem}.{layout}{suffix}"


def _split(path: str) -> tuple[str, str] | None:
    """`docs/note.interleaved.docx` → (`note`, `interleaved`); None for anything else (a folder, no layout)."""
    prefix = f"{outputs.DOCS}/"
    if not path.startswith(prefix) or "/" in path[len(prefix) :] or "\\" in path:
        return None
    base = os.path.splitext(path[len(prefix) :])[0]
    for layout in formats.LAYOUTS:
        stem, dot, found = base.rpartition(".")
        if dot and stem and found == layout:
            return stem, str(layout)
    return None


def produced(record: dict[str, Any]) -> dict[str, str]:
    """layout → the file's path under the job's output directory, for every layout this record's document has."""
    found: dict[str, str] = {}
    for path in record.get("documents") or ():
        split = _split(path) if isinstance(path, str) else None
        if split is not None:
            found[split[1]] = path
    return found


def stem(path: str) -> str | None:
    """`docs/note.interleaved.docx` → `note`: the stem a document's files share (None: not such a file)."""
    split = _split(path)
    return split[0] if split is not None else None


def taken_stems(records: Iterable[dict[str, Any]]) -> Stems:
    """The stems earlier runs of an output gave their files: a resumed run gives them to nobody else."""
    stems: list[str] = []
    for record in records:
        for path in record.get("documents") or ():
            split = _split(path) if isinstance(path, str) else None
            if split is not None:
                stems.append(split[0])
    return Stems(stems)


def media_type(path: str) -> str:
    return formats.MEDIA_TYPES.get(os.path.splitext(path)[1].lower(), "application/octet-stream")


def download_name(name: str, layout: str, path: str) -> str:
    """`film.srt`, interleaved → `film.interleaved.srt`: the document's own name, the layout, the written suffix.

    The name's stem through `names.safe_stem`: no folder, control, bidi or other format character, quote
    or escape reaches the Content-Disposition header.
    """
    stem = safe_stem(name) or "document"
    return f"{stem}.{layout}{os.path.splitext(path)[1].lower()}"
