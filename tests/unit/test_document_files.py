"""Which bilingual files a manifest record lists, and the names and media types they are served with."""

from __future__ import annotations

import pytest

from service.jobs.document_files import download_name, media_type, produced


def test_produced_reads_each_layout_back_and_ignores_what_is_no_bilingual_file() -> None:
    record = {
        "id": "ab12",
        "documents": [
            "docs/note.v2.interleaved.srt",  # named from the source (`note.v2.srt`)
            "docs/ab12.side-by-side.srt",  # named by id, as outputs written before were
            "docs/note.sideways.srt",  # not a layout
            "docs/english.srt",  # no stem
            "docs/note.english.srt/../x",  # not a plain file name
            "elsewhere/note.english.srt",  # not under docs/
        ],
    }
    assert produced(record) == {
        "interleaved": "docs/note.v2.interleaved.srt",
        "side-by-side": "docs/ab12.side-by-side.srt",
    }
    assert produced({"id": "ab12", "json": "docs/ab12.json"}) == {}


def test_download_names_come_from_the_documents_own_name() -> None:
    assert download_name("films/Le Film.srt", "english", "docs/x.english.srt") == "Le Film.english.srt"
    quoted = download_name('a\\b/"évasion"\x07.docx', "interleaved", "docs/x.interleaved.docx")
    assert quoted == "évasion.interleaved.docx"  # no quote, control character or folder left
    assert download_name("...", "english", "docs/x.english.epub") == "document.english.epub"
    assert download_name("scan.pdf", "english", "docs/x.english.html") == "scan.english.html"


def test_media_types_by_suffix() -> None:
    assert media_type("docs/x.english.srt") == "application/x-subrip"
    assert media_type("docs/x.english.epub") == "application/epub+zip"
    assert media_type("docs/x.english.weird") == "application/octet-stream"


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("facture\u202efdp.exe", "facture_fdp"),  # U+202E would show "factureexe.pdf"
        ("\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u202a\u202b\u202c\u202dx", "x"),
        ("caf\\xe9 noir.srt", "caf_ noir"),  # as display_name writes an undecodable byte
        ("caf\udce9 noir.srt", "caf_ noir"),  # the raw surrogate escape itself
        ("a\ud800b", "a_b"),
        ("zéro\u200blargeur\ufeff", "zéro_largeur"),
        ("ligne\u2028suivante\u2029fin\x85", "ligne_suivante_fin"),
        ('guillemets "doubles" et : * ? < > | fin', "guillemets _doubles_ et _ _ _ _ _ _ fin"),
        ("Le\u00a0Film", "Le Film"),
        ("CON.srt", "_CON"),
        ("lpt1", "_lpt1"),
        ("\u202e", "document"),
    ],
)
def test_download_names_strip_bidi_format_and_control_characters(name: str, shown: str) -> None:
    assert download_name(name, "english", "docs/x.english.srt") == f"{shown}.english.srt"
