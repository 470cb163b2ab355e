"""Reason codes: one enum, written as the same strings as ever, read back on resume (an unknown one too),
and docs/batch.md's table of reasons is the enum's.

`python tests/unit/test_reasons.py` rewrites that table from `service/jobs/reasons.py`.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if __name__ == "__main__":  # run as a script: make `service` importable from the checkout
    sys.path.insert(0, str(ROOT))

from service.jobs import outputs  # noqa: E402
from service.jobs.outdir import done_ids  # noqa: E402
from service.jobs.reasons import MEANINGS, Reason  # noqa: E402
from service.jobs.records import DocumentStatus, Record  # noqa: E402
from service.jobs.runner import BatchRun, RunSpec  # noqa: E402
from tests.support.fakes import FakeEngine  # noqa: E402

BATCH = ROOT / "docs" / "batch.md"
_HEADER = "| reason | recorded | what it means |\n| --- | --- | --- |\n"


def reasons_table() -> str:
    """The table of reasons as `service/jobs/reasons.py` defines it."""
    rows = [
        f"| `{reason}` | {DocumentStatus.SKIPPED if reason.repeats else DocumentStatus.FAILED} | {MEANINGS[reason]} |\n"
        for reason in Reason
    ]
    return _HEADER + "".join(rows)


def write_reasons_table(path: Path = BATCH) -> None:
    """Replace the table under the header in `path` with `reasons_table()`."""
    text = path.read_text(encoding="utf-8")
    start = text.index(_HEADER)
    end = start + len(_HEADER)
    while text.startswith("| `", end):
        end = text.index("\n", end) + 1
    path.write_text(text[:start] + reasons_table() + text[end:], encoding="utf-8")


def test_docs_list_every_reason_as_the_enum_defines_it() -> None:
    assert set(MEANINGS) == set(Reason), "every reason says what it means"
    assert reasons_table() in BATCH.read_text(encoding="utf-8"), "run `python tests/unit/test_reasons.py`"


def test_the_codes_are_the_strings_manifests_have_always_held() -> None:
    """Existing OUTDIRs resume: no code may change its string (these are the strings of earlier versions)."""
    written = {
        "absolute_path", "path_traversal", "symlink", "hardlink", "special_file", "member_too_large",
        "total_too_large", "compression_ratio", "unsupported_type", "unreadable", "encrypted", "header_too_large",
        "too_many_entries", "empty", "binary", "undecodable", "invalid_json", "unparsable", "too_many_sentences",
        "translation_error", "not_french", "output_quota", "no_text_layer", "too_many_pages", "too_much_text",
        "too_much_work", "unsafe_xml",
    }  # fmt: skip
    assert {str(reason) for reason in Reason} == written
    retried = {"invalid_json", "unparsable", "too_many_sentences", "translation_error"}
    assert {str(reason) for reason in Reason if not reason.repeats} == retried


def test_every_reason_round_trips_through_a_manifest_row_as_the_same_string() -> None:
    for reason in Reason:
        record = Record.refused("0" * 20, "a.txt", reason, "why", encoding="utf-8", format="text")
        row = json.loads(json.dumps(record.as_json()))
        assert row["reason"] == reason.value and row["status"] == ("skipped" if reason.repeats else "failed")
        back = Record.from_json(row)
        assert back == record and type(back.reason) is Reason and back.reason is reason


def test_a_reason_this_version_does_not_know_is_read_as_none_and_the_status_still_counts() -> None:
    row = {"id": "a" * 20, "name": "x.txt", "status": "skipped", "reason": "from_a_newer_version", "message": "m"}
    record = Record.from_json(row)
    assert (record.status, record.reason, record.message) == (DocumentStatus.SKIPPED, None, "m")
    assert Record.from_json(row | {"reason": 7}).reason is None
    assert Record.from_json({"id": "b" * 20, "status": "ok"}).reason is None


def test_a_resume_keeps_a_row_with_an_unknown_reason_and_shows_it(tmp_path: Path, fake_engine: FakeEngine) -> None:
    source = tmp_path / "a.zip"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("un.txt", "Le conseil a voté la mesure. Les élus ont débattu.\n")
        archive.writestr("vide.txt", b"")
    out = tmp_path / "out"
    BatchRun(RunSpec(source, out), fake_engine).run()
    rows = outputs.latest_records(out / outputs.MANIFEST)
    empty = next(row for row in rows.values() if row["name"] == "vide.txt")
    assert empty["reason"] == "empty"
    # a newer version skipped it for a reason this one has no name for
    with open(out / outputs.MANIFEST, "a", encoding="utf-8") as manifest:
        manifest.write(json.dumps(empty | {"reason": "from_a_newer_version"}) + "\n")
    assert empty["id"] in done_ids(out, outputs.latest_records(out / outputs.MANIFEST))
    again = BatchRun(RunSpec(source, out), fake_engine).run()
    assert (again.already_done, again.ok, again.skipped, again.failed) == (2, 0, 0, 0)
    assert "from_a_newer_version" in (out / outputs.INDEX).read_text(encoding="utf-8")


if __name__ == "__main__":
    write_reasons_table()
