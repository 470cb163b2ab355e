"""Office files rendered as a reader opens them: LibreOffice (headless) converts them to PDF, poppler and
pypdf read back where every word and picture landed and in which font."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOTEXT = shutil.which("pdftotext")
PDFTOPPM = shutil.which("pdftoppm")
_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">')
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')


def to_pdf(files: Sequence[Path], out: Path, profile: Path, timeout: float = 180) -> dict[Path, Path]:
    """Each file converted to PDF by one LibreOffice run (a private profile: no user settings, no lock)."""
    assert SOFFICE is not None
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=timeout,
    )
    converted = {file: out / f"{file.stem}.pdf" for file in files}
    missing = [str(file) for file, pdf in converted.items() if not pdf.is_file()]
    assert not missing, f"LibreOffice did not convert {missing}"
    return converted


@dataclass(frozen=True)
class Box:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box, slack: float = 0.5) -> bool:
        return (
            self.x0 < other.x1 - slack
            and other.x0 < self.x1 - slack
            and self.y0 < other.y1 - slack
            and other.y0 < self.y1 - slack
        )


@dataclass(frozen=True)
class Page:
    width: float
    height: float
    words: tuple[Box, ...]


def words(pdf: Path) -> list[Page]:
    """Every page's size and word boxes (points, from the top left) in the order they are drawn (`pdftotext -raw`)."""
    assert PDFTOTEXT is not None
    command = [PDFTOTEXT, "-raw", "-bbox", str(pdf), "-"]
    html = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    pages = []
    for chunk in html.split("<page ")[1:]:
        size = _PAGE.match("<page " + chunk)
        assert size is not None
        boxes = tuple(
            Box(unescape(m.group(5)), *(float(m.group(i)) for i in range(1, 5))) for m in _WORD.finditer(chunk)
        )
        pages.append(Page(float(size.group(1)), float(size.group(2)), boxes))
    return pages


def english_flags(boxes: Sequence[Box]) -> list[bool]:
    """Which words belong to the test engine's English (`EN<…>`), in reading order."""
    flags, inside = [], False
    for box in boxes:
        starts = "EN<" in box.text
        inside = inside or starts
        flags.append(inside)
        if inside and box.text.endswith(">"):
            inside = False
    return flags


@dataclass(frozen=True)
class Drawn:
    """Text or a picture as pypdf sees it drawn: its x extent (points from the left) and, for text, its font."""

    text: str
    x0: float
    x1: float
    font: str = ""


def drawn(pdf: Path, page_number: int = 0) -> tuple[list[Drawn], list[Drawn]]:
    """A page's text pieces (with their fonts' names) and pictures (with their x extents)."""
    from pypdf import PdfReader

    page = PdfReader(io.BytesIO(pdf.read_bytes())).pages[page_number]
    texts: list[Drawn] = []
    pictures: list[Drawn] = []

    def text(piece: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if piece.strip():
            name = str(font.get("/BaseFont", "")) if font is not None else ""
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            texts.append(Drawn(piece, x, x, name))

    def before(operator: bytes, operands: Any, cm: Any, tm: Any) -> None:
        if operator == b"Do":
            left, right = sorted((cm[4], cm[4] + cm[0]))
            pictures.append(Drawn(str(operands[0]), left, right))

    page.extract_text(visitor_text=text, visitor_operand_before=before)
    return texts, pictures


def screenshot(pdf: Path, png: Path, resolution: int = 60) -> Path:
    """Page 1 of `pdf` as a PNG."""
    assert PDFTOPPM is not None
    stem = png.with_suffix("")
    subprocess.run(
        [PDFTOPPM, "-r", str(resolution), "-f", "1", "-l", "1", "-singlefile", "-png", str(pdf), str(stem)],
        check=True,
        capture_output=True,
    )
    return png
