"""E-books as the usual tools make them, for the EPUB writer's tests: ebooklib (its navigation page in the
reading order, an NCX, a section without a page of its own), pandoc (a title page, the navigation outside
the spine, chapters in a folder, footnotes), and bitext's own `make_epub`.

The chapters mix a heading, a short paragraph and a long one, a list, an image and a note, so that a
layout whose columns follow their content shows it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support.documents import PNG

TITLE = "Le budget de la ville"
SHORT = "Le conseil a voté."
LONG = (
    "Les élus ont débattu longtemps du budget de la ville, des écoles qu'il faudra rénover avant la rentrée, "
    "de la piscine qui ouvrira en juin et des travaux de la place du marché, qui commenceront en mars."
)
ITEMS = ("Les écoles seront rénovées.", "La piscine ouvrira en juin.")


def chapter(n: int) -> str:
    """One chapter's body: a heading, a short and a long paragraph, a list, an image with its alt text."""
    return (
        f"<h1>Chapitre {n}</h1><p>{SHORT}</p><p>{LONG}</p>"
        f"<ul><li>{ITEMS[0]}</li><li>{ITEMS[1]}</li></ul>"
        '<p><img src="pixel.png" alt="Une photo de la mairie"/></p>'
    )


def ebooklib_book() -> bytes:
    """ebooklib's usual book: `nav` first in the spine (its default), an NCX, a section label over a chapter."""
    import tempfile

    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("urn:isbn:9782070360024")
    book.set_title(TITLE)
    book.set_language("fr")
    book.add_author("Marie Dupont")
    chapters = []
    for n in (1, 2):
        page = epub.EpubHtml(title=f"Chapitre {n}", file_name=f"chap_{n:02}.xhtml", lang="fr")
        page.content = chapter(n)
        book.add_item(page)
        chapters.append(page)
    book.add_item(epub.EpubImage(uid="pixel", file_name="pixel.png", media_type="image/png", content=PNG))
    book.toc = (
        epub.Link("chap_01.xhtml", "Chapitre 1", "intro"),
        (epub.Section("Deuxième partie"), (chapters[1],)),
    )
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *chapters]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.epub"
        epub.write_epub(str(path), book)
        return path.read_bytes()


PANDOC = shutil.which("pandoc")
MARKDOWN = f"""---
title: {TITLE}
author: Marie Dupont
lang: fr
---

# Chapitre 1

{SHORT}

{LONG}[^1]

- {ITEMS[0]}
- {ITEMS[1]}

[^1]: Selon le maire de la ville.

# Chapitre 2

{SHORT} *Les élus* ont voté le budget.
"""


def pandoc_book(folder: Path, version: str = "epub3") -> bytes:
    """`pandoc book.md -t epub3 -o book.epub` (Debian's pandoc; `epub2`: an EPUB 2 book, its table of contents
    in `toc.ncx` only): the caller skips when `PANDOC` is None."""
    source = folder / "book.md"
    source.write_text(MARKDOWN, encoding="utf-8")
    out = folder / f"book-{version}.epub"
    command = [str(PANDOC), str(source), "-t", version, "-o", str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return out.read_bytes()


def own_book() -> bytes:
    """bitext's own writer (a PDF's e-book): the navigation outside the spine, no NCX."""
    from service.formats.epub import make_epub

    return make_epub(TITLE, [(f"Chapitre {n}", chapter(n)) for n in (1, 2)], "fr", [("pixel.png", "image/png", PNG)])
