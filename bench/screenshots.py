"""The screenshots of docs/batch.md (not a measurement): page 1 of each DOCX and ODT layout, rendered by
LibreOffice as a reader opens it, as a PNG in docs/images/.

    python bench/screenshots.py [--out docs/images]

The documents are the rendering tests' own (python-docx and odfpy defaults: a fixed-width table, a
page-wide picture; tests/support/office.py), translated by the tests' stand-in engine, which writes
`EN<…>` around the French: the pictures show where the English goes and how it looks, not a translation.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.pipeline import translate_document  # noqa: E402
from service import formats  # noqa: E402
from tests.support import render  # noqa: E402
from tests.support.fakes import FakeEngine  # noqa: E402
from tests.support.office import wide_docx, wide_odt  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        files = []
        for format, build in (("docx", wide_docx), ("odt", wide_odt)):
            source = formats.read_source(build(), format)
            result = formats.bilingual(source, translate_document(source.document, FakeEngine()))
            for layout in formats.LAYOUTS:
                files.append(work / f"{format}-{layout}.{format}")
                files[-1].write_bytes(formats.write_source(source, result, layout))
        for file, pdf in render.to_pdf(files, work / "pdf", work / "profile").items():
            print(render.screenshot(pdf, args.out / f"{file.stem}.png"))


if __name__ == "__main__":
    main()
