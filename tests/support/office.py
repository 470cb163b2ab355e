"""Office documents as the usual tools make them (python-docx, odfpy, pandoc), for the layout and rendering tests."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zlib
from pathlib import Path


def png(width: int = 64, height: int = 64, rgb: tuple[int, int, int] = (40, 110, 180)) -> bytes:
    """A PNG of one colour."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PARAGRAPHS = (
    "Le conseil municipal a voté le budget de la ville hier soir, après un long débat sur les écoles.",
    "Les élus de l'opposition ont demandé plus de moyens pour les transports en commun du quartier nord.",
    "La piscine ouvrira en juin, si les travaux de rénovation se terminent à temps selon le maire.",
)


def wide_docx() -> bytes:
    """python-docx's defaults: a table of fixed column widths filling the text width, a picture as wide."""
    from docx import Document
    from docx.shared import Inches

    document = Document()
    document.add_heading("Le budget de la ville", level=1)
    document.add_paragraph(PARAGRAPHS[0])
    table = document.add_table(rows=2, cols=3)
    table.style = "Table Grid"
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"Case {r} {c} du tableau municipal"
    document.add_heading("Les travaux", level=2)
    document.add_picture(io.BytesIO(png()), width=Inches(6))
    document.add_paragraph(PARAGRAPHS[1])
    document.add_paragraph(PARAGRAPHS[2])
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def wide_odt() -> bytes:
    """odfpy: headings, paragraphs, a three-column table and a picture 16 cm wide."""
    from odf.draw import Frame, Image
    from odf.opendocument import OpenDocumentText
    from odf.style import GraphicProperties, Style, TableColumnProperties, TextProperties
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, P

    document = OpenDocumentText()
    heading = Style(name="Heading 1", family="paragraph")
    heading.addElement(TextProperties(fontsize="18pt", fontweight="bold"))
    document.styles.addElement(heading)
    column = Style(name="col", family="table-column")
    column.addElement(TableColumnProperties(columnwidth="5.5cm"))
    document.automaticstyles.addElement(column)
    frame_style = Style(name="fr1", family="graphic")
    frame_style.addElement(GraphicProperties(anchortype="paragraph", wrap="none"))
    document.automaticstyles.addElement(frame_style)
    document.text.addElement(H(outlinelevel=1, stylename=heading, text="Le budget de la ville"))
    document.text.addElement(P(text=PARAGRAPHS[0]))
    table = Table(name="Tableau1")
    table.addElement(TableColumn(numbercolumnsrepeated=3, stylename=column))
    for r in range(2):
        row = TableRow()
        for c in range(3):
            cell = TableCell()
            cell.addElement(P(text=f"Case {r} {c} du tableau municipal"))
            row.addElement(cell)
        table.addElement(row)
    document.text.addElement(table)
    document.text.addElement(H(outlinelevel=2, stylename=heading, text="Les travaux"))
    name = document.addPicture("Pictures/photo.png", "image/png", png())
    holder = P()
    frame = Frame(stylename=frame_style, width="16cm", height="16cm", anchortype="paragraph", name="photo")
    frame.addElement(Image(href=name))
    holder.addElement(frame)
    document.text.addElement(holder)
    document.text.addElement(P(text=PARAGRAPHS[1]))
    document.text.addElement(P(text=PARAGRAPHS[2]))
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


PANDOC_MARKDOWN = f"""# Le budget de la ville

{PARAGRAPHS[0]}

| Quartier | Écoles rénovées | Budget prévu pour les travaux |
|---|---|---|
| Le quartier nord de la ville | Trois écoles primaires | Deux millions de dollars |
| Le quartier sud de la ville | Une école secondaire | Un million de dollars |

## Les travaux

![La mairie au printemps](photo.png){{width=100%}}

{PARAGRAPHS[1]}
"""


def pandoc_document(format: str, folder: Path) -> bytes:
    """A DOCX or ODT as pandoc writes it from markdown: a heading, a table, a page-wide picture with its caption."""
    pandoc = shutil.which("pandoc")
    assert pandoc is not None
    (folder / "photo.png").write_bytes(png(400, 300))
    (folder / "article.md").write_text(PANDOC_MARKDOWN, encoding="utf-8")
    subprocess.run(
        [pandoc, "article.md", "-o", f"article.{format}"], cwd=folder, check=True, capture_output=True, timeout=60
    )
    return (folder / f"article.{format}").read_bytes()
