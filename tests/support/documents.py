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
