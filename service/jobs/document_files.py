"""A job's documents written back in their own format: which layouts a manifest record has, and how to serve one.

The runner names each file `docs/<id>.<layout><suffix>` and lists it under the record's `documents`;
these helpers read that list back, so the jobs API can say which files exist and hand one out with
its media type and a download name made from the document's own name.
"""

from __future__ import annotations

import os
from typing import Any

from service import formats
from service.jobs import outputs
from service.jobs.names import safe_stem


def produced(record: dict[str, Any]) -> dict[str, str]:
    """layout → the file's path under the job's output directory, for every layout this record's document has."""
    found: dict[str, str] = {}
    prefix = f"{outputs.DOCS}/{record.get('id', '')}."
    for path in record.get("documents") or ():
        if not isinstance(path, str) or not path.startswith(prefix):
            continue
        rest = path[len(prefix) :]
        for layout in formats.LAYOUTS:
            if rest.startswith(f"{layout}.") and "/" not in rest:
                found[layout] = path
    return found


def media_type(path: str) -> str:
    return formats.MEDIA_TYPES.get(os.path.splitext(path)[1].lower(), "application/octet-stream")


def download_name(name: str, layout: str, path: str) -> str:
    """`film.srt`, interleaved → `film.interleaved.srt`: the document's own name, the layout, the written suffix.

    The name's stem through `names.safe_stem`: no folder, control, bidi or other format character, quote
    or escape reaches the Content-Disposition header.
    """
    stem = safe_stem(name) or "document"
    return f"{stem}.{layout}{os.path.splitext(path)[1].lower()}"
