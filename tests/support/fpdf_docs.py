"""PDFs as fpdf2 writes them (embedded core fonts, one text object per line), with a known paragraph structure."""

from __future__ import annotations

from dataclasses import dataclass

SENTENCES = (
    "Le conseil municipal a voté le budget de la ville hier soir après un long débat.",
    "Les élus de l'opposition ont demandé plus de moyens pour les écoles du quartier nord.",
    "La piscine ouvrira en juin si les travaux de rénovation se terminent à temps.",
    "Le maire a promis une consultation des habitants avant la fin de l'année.",
)


def paragraph(i: int, sentences: int = 3) -> str:
    return f"Paragraphe {i + 1}. " + " ".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(sentences))


@dataclass(frozen=True)
class Made:
    data: bytes
    body: tuple[str, ...]  # the paragraphs and headings of the text, in reading order
    headings: tuple[str, ...] = ()
    running: tuple[str, ...] = ()  # header and footer lines repeated on every page


def _pdf(header: str | None = None, footer: bool = False):  # type: ignore[no-untyped-def]
    from fpdf import FPDF

    class Paper(FPDF):  # type: ignore[misc]
        def header(self) -> None:
            if header:
                self.set_font("helvetica", "I", 9)
                self.cell(0, 8, header, align="C")
                self.ln(12)

        def footer(self) -> None:
            if footer:
                self.set_y(-15)
                self.set_font("helvetica", "I", 9)
                self.cell(0, 10, f"Page {self.page_no()}", align="C")

    paper = Paper(format="A4")
    paper.set_auto_page_break(True, margin=20)
    return paper


def nine_paragraphs(gap: float = 1.5) -> Made:
    """Nine paragraphs on one page, each set apart by a gap of `gap` mm (less than one line)."""
    paper = _pdf()
    paper.add_page()
    paper.set_font("helvetica", size=11)
    texts = tuple(paragraph(i, 2) for i in range(9))
    for text in texts:
        paper.multi_cell(0, 5, text)
        paper.ln(gap)
    return Made(bytes(paper.output()), texts)


def article(pages: int = 3) -> Made:
    """A title, section headings and paragraphs over `pages` pages, a running header and page numbers."""
    header = "Bulletin municipal de Montréal"
    paper = _pdf(header=header, footer=True)
    paper.set_font("helvetica", size=11)
    body: list[str] = []
    headings: list[str] = []
    for page in range(pages):
        paper.add_page()
        title = f"Section {page + 1} du bulletin"
        paper.set_font("helvetica", "B", 16)
        paper.multi_cell(0, 9, title)
        paper.ln(2)
        headings.append(title)
        body.append(title)
        paper.set_font("helvetica", size=11)
        for i in range(3):
            text = paragraph(page * 3 + i, 2)
            paper.multi_cell(0, 5, text)
            paper.ln(2)
            body.append(text)
    return Made(bytes(paper.output()), tuple(body), tuple(headings), (header, "Page 1"))


def two_columns() -> Made:
    """A heading across the page, then two columns of three paragraphs each, the left one first."""
    paper = _pdf()
    paper.add_page()
    paper.set_font("helvetica", "B", 16)
    heading = "Deux colonnes de nouvelles"
    paper.multi_cell(0, 9, heading)
    top = paper.get_y() + 4
    paper.set_font("helvetica", size=10)
    body = [heading]
    width = (paper.w - paper.l_margin - paper.r_margin - 8) / 2
    for column in range(2):
        paper.set_xy(paper.l_margin + column * (width + 8), top)
        for i in range(3):
            text = paragraph(column * 3 + i, 2)
            paper.set_x(paper.l_margin + column * (width + 8))
            paper.multi_cell(width, 4.5, text)
            paper.ln(1.5)
            body.append(text)
    return Made(bytes(paper.output()), tuple(body), (heading,))
