"""Batch outputs a person can browse (issue 23, point 7): bilingual files named from the source's name,
unique within the output, and an index.html that shows each document's title and links every file."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from service import formats
from service.jobs import document_files, outputs
from service.jobs.config import BatchConfig
from service.jobs.names import Stems, safe_stem
from service.jobs.runner import BatchRun, RunSpec
from tests.support.documents import BUILDERS, docx, srt
from tests.support.fakes import FakeEngine

LAYOUTS = formats.LAYOUTS


def run(source: Path, outdir: Path, layouts: tuple[str, ...] = LAYOUTS) -> dict[str, dict[str, Any]]:
    BatchRun(RunSpec(source, outdir, config=BatchConfig(layouts=layouts)), FakeEngine()).run()
    return {r["name"]: r for r in outputs.latest_records(outdir / outputs.MANIFEST).values()}


def bilingual(outdir: Path) -> list[str]:
    return sorted(p.name for p in (outdir / outputs.DOCS).iterdir() if not p.name.endswith((".json", ".html")))


def test_stems_are_safe_and_unique_whatever_the_case() -> None:
    stems = Stems()
    assert [stems.take(name) for name in ("a/note.docx", "b/note.odt", "NOTE.srt", "note-2.vtt")] == [
        "note",
        "note-2",
        "NOTE-3",
        "note-2-2",
    ]
    assert stems.take('dir/we?ird"\u202ename:.docx') == safe_stem('we?ird"\u202ename:.docx') != ""
    assert stems.take("a/...") == "document"  # nothing left of the name: still a name
    assert Stems(["note"]).take("x/Note.srt") == "Note-2"  # taken by an earlier run


def test_files_are_named_from_the_source_and_unique_in_the_output(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "a").mkdir(parents=True)
    (source / "b").mkdir()
    (source / "a" / "note.docx").write_bytes(docx())
    (source / "b" / "note.docx").write_bytes(docx())
    (source / "b" / "Note.srt").write_bytes(srt())
    (source / "b" / "texte.md").write_text("# Titre\n\nUn texte.\n", encoding="utf-8")
    records = run(source, tmp_path / "out")
    assert {r["status"] for r in records.values()} == {"ok"}
    assert records["a/note.docx"]["documents"] == [f"docs/note.{layout}.docx" for layout in LAYOUTS]
    # archive order (b/Note.srt sorts before b/note.docx); case does not make two names
    assert records["b/Note.srt"]["documents"] == [f"docs/Note-2.{layout}.srt" for layout in LAYOUTS]
    assert records["b/note.docx"]["documents"] == [f"docs/note-3.{layout}.docx" for layout in LAYOUTS]
    assert "documents" not in records["b/texte.md"]  # JSON + HTML only: no name taken
    files = bilingual(tmp_path / "out")
    assert len(files) == 3 * len(LAYOUTS) and len({name.casefold() for name in files}) == len(files)
    for record in records.values():
        assert set(document_files.produced(record)) == (set(LAYOUTS) if "documents" in record else set())


def test_names_stay_stable_when_a_run_resumes_with_more_documents(tmp_path: Path) -> None:
    source, outdir = tmp_path / "src", tmp_path / "out"
    (source / "b").mkdir(parents=True)
    (source / "b" / "note.docx").write_bytes(docx())
    first = run(source, outdir, ("english",))
    assert first["b/note.docx"]["documents"] == ["docs/note.english.docx"]
    before = (outdir / "docs" / "note.english.docx").read_bytes()
    (source / "a").mkdir()
    (source / "a" / "note.srt").write_bytes(srt())  # read first now: it must not take `note`
    again = run(source, outdir, ("english",))
    assert again["b/note.docx"]["documents"] == ["docs/note.english.docx"]
    assert again["a/note.srt"]["documents"] == ["docs/note-2.english.srt"]
    assert (outdir / "docs" / "note.english.docx").read_bytes() == before


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []
        self._cls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "tr":
            self.rows.append({"text": [], "titles": [], "hrefs": []})
        if tag == "a" and self.rows:
            self.rows[-1]["hrefs"].append(values["href"])
        self._cls.append(values.get("class") or "")

    def handle_endtag(self, tag: str) -> None:
        if self._cls:
            self._cls.pop()

    def handle_data(self, data: str) -> None:
        if self.rows and self._cls and self._cls[-1] == "doc-title":
            self.rows[-1]["titles"].append(data)


def test_index_shows_titles_and_links_every_file(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "budget#1 %.docx").write_bytes(docx())  # characters a URL must escape
    (source / "film.srt").write_bytes(srt())
    (source / "article.md").write_text("# Le **sommet** de Moscou\n\nUn texte.\n", encoding="utf-8")
    outdir = tmp_path / "out"
    records = run(source, outdir)
    page = (outdir / outputs.INDEX).read_text(encoding="utf-8")
    parser = Links()
    parser.feed(page)
    rows = [row for row in parser.rows if row["hrefs"]]
    assert len(rows) == 3
    by_title = {"".join(row["titles"]): row for row in rows}
    assert "Le budget de la ville" in by_title  # the document's heading, not its file name
    assert "Le sommet de Moscou" in by_title  # markup read, never shown
    assert "film.srt" in by_title  # a subtitle file has no title: its name
    for record in records.values():
        row = next(r for r in rows if record["json"] in r["hrefs"])
        expected = [record["html"], record["json"], *record.get("documents", [])]
        assert [unquote(href) for href in row["hrefs"]] == expected
        for href in row["hrefs"]:
            assert "#" not in href and " " not in href
            assert (outdir / unquote(href)).is_file()
    assert records["budget#1 %.docx"]["title_en"]  # the English title is kept too


def test_every_format_gets_named_files(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for format in BUILDERS:
        (source / f"doc.{format}").write_bytes(BUILDERS[format]())
    records = run(source, tmp_path / "out", ("interleaved",))
    stems = sorted(path.split("/")[1].split(".")[0] for r in records.values() for path in r.get("documents", ()))
    assert stems == sorted(["doc", *(f"doc-{n}" for n in range(2, len(BUILDERS) + 1))])
