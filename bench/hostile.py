"""Hostile documents of every format at two sizes of their attack: CPU seconds, peak memory and outcome.

The families are the test suite's (`tests/support/hostile.py`); this prints their figures instead
of asserting on them, for docs/production.md and a release note. Run from the repository root:

    python bench/hostile.py             # every family at the default caps (what a server runs)
    python bench/hostile.py --only pdf   # the families whose name starts with "pdf"
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import cpu_model  # noqa: E402

from models.parse import parse  # noqa: E402
from service import formats  # noqa: E402
from tests.support import hostile  # noqa: E402
from tests.support.documents import docx, epub, odt  # noqa: E402

FAMILIES = {
    "pdf form drawn n times": (hostile.pdf_form_drawn, "pdf", 500),
    "pdf forms drawing forms": (hostile.pdf_nested_forms, "pdf", 20),
    "pdf form with a large font map": (hostile.pdf_form_font_map, "pdf", 100),
    "pdf pages sharing a map of ranges": (hostile.pdf_font_map_ranges, "pdf", 40),
    "pdf one paragraph over many pages": (hostile.pdf_long_paragraph, "pdf", 10_000),
    "docx runs nested in runs": (hostile.docx_nested_runs, "docx", 120),
    "docx parts inflating": (hostile.inflating(docx), "docx", 8),
    "odt parts inflating": (hostile.inflating(odt), "odt", 8),
    "epub parts inflating": (hostile.inflating(epub), "epub", 8),
    "odt spans nested": (hostile.odt_nested_spans, "odt", 120),
    "epub divs nested": (hostile.epub_nested, "epub", 120),
    "html nested": (hostile.html_nested, "html", 90),
}


def _read(kind: str, data: bytes) -> str:
    try:
        if kind == "html":
            parse(data.decode("utf-8"), "html")
        else:
            formats.read_source(data, kind)
    except formats.FormatError as error:
        return error.code
    except Exception as error:  # noqa: BLE001 - a refusal of another kind is an outcome too
        return type(error).__name__
    return "read"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="families whose name starts with this")
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}; Python {platform.python_version()}")
    print("| family | n | bytes | CPU s | peak MB | outcome | 2n bytes | CPU s | peak MB | outcome |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, (family, kind, n) in FAMILIES.items():
        if not name.startswith(args.only):
            continue
        cells = [name, str(n)]
        for size in (n, 2 * n):
            data = family(size)
            tracemalloc.start()
            started = time.process_time()
            outcome = _read(kind, data)
            seconds = time.process_time() - started
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            cells += [f"{len(data):,}", f"{seconds:.2f}", f"{peak / 1e6:.1f}", outcome]
        print("| " + " | ".join(cells[:2] + cells[2:6] + cells[6:]) + " |", flush=True)


if __name__ == "__main__":
    main()
