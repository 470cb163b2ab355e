"""Small French documents of every format `service.formats` reads, built in memory for the tests and the bench."""

from __future__ import annotations

from collections.abc import Callable

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
