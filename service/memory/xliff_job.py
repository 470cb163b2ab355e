"""A whole batch output (a job's, or `bitext batch`'s OUTDIR) as one XLIFF 2.0 file: a `<file>` per
translated document, in the manifest's order, named by the document's path in the archive."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from service.jobs import outputs
from service.jobs.records import DocumentStatus
from service.memory.exchange import ExchangeError
from service.memory.xliff import XliffFile, export_files, sentences_of
from service.schemas import TranslateResponse

NO_DOCUMENTS = "no_documents"
UNREADABLE = "document_unreadable"


def outdir_xliff(outdir: Path) -> bytes:
    """Every translated document of `outdir` as one XLIFF 2.0 file. Raises `ExchangeError`: with code
    `no_documents` when none is translated, `document_unreadable` when a document's JSON cannot be read,
    `invalid_document` when a text cannot be written as XML."""
    files = []
    for record in outputs.latest_records(outdir / outputs.MANIFEST).values():
        if record.get("status") != DocumentStatus.OK or not record.get("json"):
            continue
        name = str(record.get("name") or record["id"])
        try:
            answer = TranslateResponse.model_validate_json((outdir / str(record["json"])).read_bytes())
        except (OSError, ValidationError):
            raise ExchangeError(f"{name}: its JSON cannot be read", code=UNREADABLE) from None
        files.append(XliffFile(name.rsplit("/", 1)[-1], sentences_of(answer), name))
    if not files:
        raise ExchangeError("no translated document yet", code=NO_DOCUMENTS)
    return export_files(files)
