"""A document's manifest record, typed: what became of one document of a batch, and why.

The manifest (`manifest.jsonl`) and the jobs API carry records as JSON objects; the runner builds
them only through `Record` (its status an enum, a refusal's status decided by one rule from its
reason) and writes them with `as_json`, so a record's shape is defined once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from service.jobs.reasons import Reason


class DocumentStatus(StrEnum):
    OK = "ok"  # translated; its files are in place
    FAILED = "failed"  # a problem a rerun may not repeat (a bug, the engine): tried again on resume
    SKIPPED = "skipped"  # refused by a rule a rerun would apply again (`Reason.repeats`)
    PENDING = "pending"  # not reached yet (an interrupted run's index)


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    name: str
    status: DocumentStatus
    reason: Reason | None = None  # why, when not OK
    message: str | None = None
    encoding: str | None = None
    format: str | None = None
    json: str | None = None  # files under the run's OUTDIR
    html: str | None = None
    documents: tuple[str, ...] = ()  # the bilingual files, `docs/<stem>.<layout><suffix>`
    title: str | None = None  # the document's title as a reader sees it (markup left out), French
    title_en: str | None = None  # and its English
    sentences: int = 0
    source_tokens: int = 0
    output_tokens: int = 0

    @property
    def files(self) -> tuple[str, ...]:
        """What it wrote under the run's OUTDIR: its JSON, its page, its documents in their own format."""
        return tuple(name for name in (self.json, self.html) if name) + self.documents

    @classmethod
    def refused(
        cls,
        ident: str,
        name: str,
        reason: Reason,
        message: str,
        *,
        encoding: str | None = None,
        format: str | None = None,
    ) -> Record:
        """A document not translated: `skipped` when a rerun would refuse it again, else `failed`."""
        status = DocumentStatus.SKIPPED if reason.repeats else DocumentStatus.FAILED
        return cls(ident, name, status, reason, message, encoding, format)

    def as_json(self) -> dict[str, Any]:
        """The manifest's JSON object: empty fields left out, as every record has always been written."""
        out: dict[str, Any] = {"id": self.id, "name": self.name, "status": str(self.status)}
        for key in ("reason", "message", "encoding", "format", "json", "html", "title", "title_en"):
            value = getattr(self, key)
            if value not in (None, ""):
                out[key] = value
        if self.documents:
            out["documents"] = list(self.documents)
        if self.status is DocumentStatus.OK:
            out |= {
                "sentences": self.sentences,
                "source_tokens": self.source_tokens,
                "output_tokens": self.output_tokens,
            }
        return out

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Record:
        """A record read back (the manifest, a Ray actor's row)."""
        return cls(
            str(value["id"]),
            str(value.get("name", "")),
            DocumentStatus(value["status"]),
            Reason.read(value.get("reason")),
            value.get("message"),
            value.get("encoding"),
            value.get("format"),
            value.get("json"),
            value.get("html"),
            tuple(value.get("documents") or ()),
            value.get("title"),
            value.get("title_en"),
            int(value.get("sentences", 0)),
            int(value.get("source_tokens", 0)),
            int(value.get("output_tokens", 0)),
        )
