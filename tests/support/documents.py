"""Small French documents of every format `service.formats` reads, built in memory for the tests and the bench."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Mapping

from tests.support.pdf import Line, make_pdf

SRT = (
    "1\n00:00:01,000 --> 00:00:03,500\nBonjour à tous.\n\n"
    "2\n00:00:04,000 --> 00:00:06,000\nLe conseil municipal a voté\n\n"
    "3\n00:00:06,100 --> 00:00:09,000\nla nouvelle mesure hier soir.\n"
)
VTT = "WEBVTT\n\n00:01.000 --> 00:03.500\nBonjour à tous.\n\n00:04.000 --> 00:06.000\nLa séance est ouverte.\n"


def srt(cues: int = 3) -> bytes:
    if cues == 3:
        return SRT.encode("utf-8")
    out = []
    for i in range(cues):
        start, end = i * 3, i * 3 + 2
        text = (
            "Le conseil municipal a voté"
            if i % 3 == 1
            else f"la mesure numéro {i} hier soir."
            if i % 3 == 2
            else (f"Bonjour à tous, voici la réunion {i}.")
        )
        out.append(
            f"{i + 1}\n00:{start // 60:02}:{start % 60:02},000 --> 00:{end // 60:02}:{end % 60:02},500\n{text}\n"
        )
    return "\n".join(out).encode("utf-8")


def vtt() -> bytes:
    return VTT.encode("utf-8")


BUILDERS: dict[str, Callable[[], bytes]] = {"srt": srt, "vtt": vtt}


def docx() -> bytes:
    import io

    from docx import Document

    document = Document()
    document.add_heading("Le budget de la ville", level=1)
    paragraph = document.add_paragraph("Le conseil municipal a voté ")
    paragraph.add_run("le budget").bold = True
    paragraph.add_run(" hier soir. Les élus ont débattu.")
    document.add_paragraph("Les écoles seront rénovées.", style="List Bullet")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "La piscine ouvrira en juin."
    table.rows[0].cells[1].text = "2 000 000"
    document.add_paragraph("")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


BUILDERS["docx"] = docx

# a 1×1 PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000 1f15c4890000000d49444154789c6360000002000001e221bc33"
    "0000000049454e44ae426082".replace(" ", "")
)


def epub_chapter(i: int) -> str:
    return (
        f"<section><h1>Chapitre {i + 1}</h1><p>Le conseil municipal a voté <em>le budget</em> {i + 1} hier soir. "
        'Les élus ont débattu longtemps.</p><figure><img src="pixel.png" alt="Une photo de la mairie"/>'
        "<figcaption>La mairie au printemps.</figcaption></figure><ul><li>Les écoles seront rénovées.</li>"
        '<li>La piscine ouvrira en juin.</li></ul><p>Voir la note<a epub:type="noteref" href="#n1">1</a>.</p>'
        f'<aside epub:type="footnote" id="n1"><p>Selon le maire de la ville.</p></aside></section>'
    )


def epub(chapters: int = 2) -> bytes:
    from service.formats.epub import make_epub

    return make_epub(
        "Le budget",
        [(f"Chapitre {i + 1}", epub_chapter(i)) for i in range(chapters)],
        "fr",
        [("pixel.png", "image/png", PNG)],
    )


BUILDERS["epub"] = epub


def odt() -> bytes:
    """A heading, a paragraph with a bold span and a footnote, a list, a table, a text box, spaces (`text:s`)."""
    import io

    from odf.draw import Frame, TextBox
    from odf.opendocument import OpenDocumentText
    from odf.style import Style, TextProperties
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, List, ListItem, Note, NoteBody, NoteCitation, P, S, Span

    document = OpenDocumentText()
    bold = Style(name="Gras", family="text")
    bold.addElement(TextProperties(fontweight="bold"))
    document.automaticstyles.addElement(bold)
    body = document.text
    body.addElement(H(outlinelevel=1, text="Le budget de la ville"))
    paragraph = P(text="Le conseil municipal a voté ")
    paragraph.addElement(Span(stylename=bold, text="le budget"))
    paragraph.addText(" hier soir.")
    note = Note(id="ftn1", noteclass="footnote")
    note.addElement(NoteCitation(text="1"))
    note_body = NoteBody()
    note_body.addElement(P(text="Selon le maire de la ville."))
    note.addElement(note_body)
    paragraph.addElement(note)
    paragraph.addText(" Les élus ont")
    paragraph.addElement(S(c=2))
    paragraph.addText("débattu.")
    body.addElement(paragraph)
    items = List()
    for text in ("Les écoles seront rénovées.", "La piscine ouvrira en juin."):
        item = ListItem()
        item.addElement(P(text=text))
        items.addElement(item)
    body.addElement(items)
    table = Table(name="Chiffres")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    row = TableRow()
    for text in ("La mairie au printemps.", "2 000 000"):
        cell = TableCell()
        cell.addElement(P(text=text))
        row.addElement(cell)
    table.addElement(row)
    body.addElement(table)
    anchor = P()
    frame = Frame(width="5cm", height="2cm", anchortype="paragraph", name="Encadré")
    box = TextBox()
    box.addElement(P(text="Un encadré sur la séance."))
    frame.addElement(box)
    anchor.addElement(frame)
    body.addElement(anchor)
    body.addElement(P(text="2 000 000"))
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


BUILDERS["odt"] = odt


def pdf_pages() -> list[list[Line]]:
    """Two pages: a heading, a paragraph with a hyphenated line break, an indented paragraph going on
    over the page break, and a last paragraph after a gap."""
    return [
        [
            Line("Le budget de la ville", 72, 720, 18),
            Line("Le conseil municipal a voté le budget hier soir. Les élus", 72, 690),
            Line("ont débattu longtemps de la rénova-", 72, 676),
            Line("tion des écoles (et du « stade »).", 72, 662),
            Line("La piscine ouvrira en juin, a précisé", 90, 640),
            Line("le maire, et la bibliothèque", 72, 626),
        ],
        [Line("sera agrandie l’an prochain.", 72, 720), Line("Les travaux commenceront en mars.", 72, 690)],
    ]


def pdf() -> bytes:
    """`pdf_pages`, then an image-only page."""
    return make_pdf([*pdf_pages(), None], title="Le budget")


BUILDERS["pdf"] = pdf


def zipped(members: Mapping[str, bytes | str]) -> bytes:
    """A zip archive of `members` (name → content; text is stored as UTF-8)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
