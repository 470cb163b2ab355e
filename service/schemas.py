"""The JSON contract (v1): request bodies, the aligned bilingual response, errors.

Responses are built from the engine layer's dataclasses (`from_attributes`), so the contract is
written once, here, and the OpenAPI document at `/docs` is generated from it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.document import BlockKind, EnglishSource
from models.memory import MemoryMode, Origin

Format = Literal["auto", "text", "markdown", "html"]


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    num_beams: int | None = Field(
        default=None, ge=1, le=8, description="beam size; default: the model's own (4 for opus-mt)"
    )
    repair: bool | None = Field(
        default=None,
        description=(
            "retry repetition loops and changed numbers, translate ALL-CAPS in sentence case; default: BITEXT_REPAIR"
        ),
    )
    glossary: dict[str, str] = Field(
        default_factory=dict, description="French term → the English it must become (adds to the server's)"
    )
    keep: list[str] = Field(
        default_factory=list, description="terms to keep exactly as written, e.g. a newspaper's name"
    )
    alignment: bool = Field(
        default=False,
        description=(
            "give every translated sentence its plain texts (`fr_plain`, `en_plain`, markup removed) and the "
            "word alignment between them (`alignment`)"
        ),
    )
    alternatives: int | None = Field(
        default=None,
        ge=1,
        le=8,
        description=(
            "give every translated sentence up to this many other distinct translations from the beam "
            "(`alternatives`, plain text, best first); at most the beam size"
        ),
    )
    scores: bool = Field(
        default=False,
        description=(
            "give every translated sentence `score`: the model's length-normalised log-probability of `en` "
            "(its own confidence, not calibrated)"
        ),
    )
    memory: MemoryMode = Field(
        default=MemoryMode.SUGGEST,
        description=(
            "the caller's translation memory: `suggest` (context and exact matches replace the model's English, "
            "fuzzy ones come as `suggestion`), `apply` (fuzzy matches over the threshold replace it too) or `off`"
        ),
    )
    memory_threshold: int | None = Field(
        default=None, ge=50, le=100, description="lowest fuzzy match percentage; default: BITEXT_MEMORY_THRESHOLD (75)"
    )


class ImageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=4096)
    alt: str | None = None


class ArticleIn(BaseModel):
    """A structured article; `source` and the image URL are kept, the rest is translated."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    source: str | None = None
    image: ImageIn | None = None
    paragraphs: list[str] = Field(default_factory=list)


class TranslateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(
        default=None, pattern=r"\S", description="the article itself (plain text, markdown or HTML)"
    )
    article: ArticleIn | None = None
    format: Format = "auto"
    options: Options = Field(default_factory=Options)

    @model_validator(mode="after")
    def _one_input(self) -> TranslateRequest:
        if (self.text is None) == (self.article is None):
            raise ValueError("send exactly one of 'text' or 'article'")
        return self


class ModelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    engine: str
    device: str
    dtype: str


class MarkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str = Field(description="`link`, `image`, `strong`, `em`, `code` or `span`")
    start: int = Field(description="code-point offset in the plain text (`fr_plain` or `en_plain`)")
    end: int
    url: str | None = Field(default=None, description="a link's or image's URL, byte for byte")


class SuggestionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    fr: str = Field(description="the memory unit's French")
    en: str = Field(description="its English, as stored")
    match: int = Field(description="fuzzy match percentage (token edit distance)")


class SentenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    index: int
    start: int = Field(description="offset of the sentence in the block's `fr`, in code points")
    end: int
    fr: str = Field(description="the French sentence as sent, inline markup included")
    en: str = Field(description="its English, with the same kind of inline markup (markdown or HTML)")
    flags: list[str]
    fr_plain: str | None = Field(
        default=None,
        description="`fr` without its markup: always in a block with inline markup; in every block with "
        "`options.alignment`",
    )
    en_plain: str | None = Field(default=None, description="`en` without its markup (when `fr_plain` is given)")
    alignment: list[tuple[int, int, int, int]] | None = Field(
        default=None,
        description=(
            "with `options.alignment`: one `[fr_start, fr_end, en_start, en_end]` per English token, the French "
            "token it translates; code-point offsets into `fr_plain` and `en_plain`"
        ),
    )
    fr_marks: list[MarkOut] | None = Field(
        default=None,
        description=(
            "in a block with inline markup (always): its elements over `fr_plain`, outer first, "
            "so a client can draw links and emphasis without parsing markdown or HTML"
        ),
    )
    en_marks: list[MarkOut] | None = Field(
        default=None, description="the same over `en_plain`: where each element landed in the English"
    )
    alternatives: list[str] | None = Field(
        default=None,
        description=(
            "with `options.alternatives`: other distinct translations from the beam, best first, plain text "
            "(no inline markup), never the chosen `en`; may be fewer than asked, or empty"
        ),
    )
    score: float | None = Field(
        default=None,
        description=(
            "with `options.scores`: the model's mean log-probability per output token of `en` (0 is certain, "
            "lower is less sure); the model's own confidence, not a calibrated probability"
        ),
    )
    source: EnglishSource = Field(
        default=EnglishSource.MODEL,
        description=(
            "where `en` came from: `model`, `kept` (not translated), or the translation memory's tier: "
            "`memory:context`, `memory:exact`, `memory:placeables` (numbers and dates swapped), `memory:fuzzy`"
        ),
    )
    match: int | None = Field(default=None, description="with a `memory:*` source: the match percentage")
    suggestion: SuggestionOut | None = Field(
        default=None, description="a fuzzy memory match offered beside the model's English (`options.memory` suggest)"
    )


class BlockOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    index: int
    kind: BlockKind
    fr: str = Field(description="the translatable French text (an image's alt text)")
    en: str
    translated: bool = Field(description="false: kept verbatim (a publisher line, a line without words)")
    sentences: list[SentenceOut]
    prefix: str = Field(default="", description="markup before `fr` in the input, kept verbatim")
    suffix: str = Field(default="", description="markup after `fr` in the input, kept verbatim")
    url: str | None = Field(default=None, description="image URL, byte for byte as sent")
    markup: Literal["markdown", "html"] | None = Field(
        default=None, description="the inline markup `fr` and `en` carry (links, emphasis, code); absent: plain text"
    )
    cell: tuple[int, int, int] | None = Field(
        default=None, description="a table cell: [table, row, column], counted from 0 in the article"
    )


class SourceBlockOut(BaseModel):
    """A block as the stream's `start` announces it: its French and kind, before any English. The
    fields are those of `BlockOut` with the same meaning; `en` and `sentences` come with the block."""

    index: int
    kind: BlockKind
    fr: str = Field(description="the translatable French text (an image's alt text)")
    translated: bool = Field(description="false: kept verbatim, its `en` will be its `fr`")
    prefix: str = ""
    suffix: str = ""
    url: str | None = None
    markup: Literal["markdown", "html"] | None = None
    cell: tuple[int, int, int] | None = None


class StatsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    blocks: int
    sentences: int
    source_tokens: int
    output_tokens: int
    seconds: float


class TranslateResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    source_lang: str
    target_lang: str
    model: ModelOut
    format: str
    blocks: list[BlockOut]
    stats: StatsOut
    warnings: list[str]


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail


class StreamEvent(BaseModel):
    """One line of the `application/x-ndjson` answer of `POST /v1/translate`; `type` says which fields it has."""

    type: Literal["start", "block", "end", "error"]
    blocks: list[SourceBlockOut] | None = Field(
        default=None,
        description=(
            "start: every block's French and kind, in reading order (one `block` line follows for each), "
            "so a reader can show the whole French at once"
        ),
    )
    sentences: int | None = Field(default=None, description="start: how many sentences the article has")
    model: ModelOut | None = Field(default=None, description="start")
    format: str | None = Field(default=None, description="start: the format the input was read as")
    block: BlockOut | None = Field(default=None, description="block: one block, exactly as in the JSON answer")
    stats: StatsOut | None = Field(default=None, description="end")
    warnings: list[str] | None = Field(default=None, description="end")
    error: ErrorDetail | None = Field(default=None, description="error: why the stream stopped early")


class Health(BaseModel):
    status: Literal["ok", "loading", "draining"]
    model: ModelOut | None = None


class UnitIn(BaseModel):
    """One translation-memory unit to add or correct (`POST /v1/memory/units`)."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=10_000, pattern=r"\S", description="the French sentence")
    english: str = Field(min_length=1, max_length=20_000, pattern=r"\S", description="its English")
    previous: str = Field(default="", max_length=10_000, description="the French sentence before it (context)")
    next: str = Field(default="", max_length=10_000, description="the French sentence after it (context)")
    origin: Origin = Field(default=Origin.EDIT, description="`edit`, `import`, `picked` or `suggest`")


class UnitOut(BaseModel):
    id: int
    source: str
    english: str
    previous: str
    next: str
    origin: Origin
    created: str
    updated: str
    supersedes: int | None = Field(default=None, description="the unit this one replaced (kept as history)")


class UnitsOut(BaseModel):
    units: list[UnitOut]


class GlossaryInfoOut(BaseModel):
    name: str
    entries: int = Field(description="how many entries the glossary has")
    created: str
    updated: str


class ImportOut(BaseModel):
    imported: int = Field(
        description="units stored (each superseding any current unit for the same sentence); for a glossary, "
        "the entries read"
    )
    skipped: int | None = Field(
        default=None,
        description="XLIFF only: segments left out (unchanged and not reviewed, untranslated, or translate=no)",
    )
    glossary: GlossaryInfoOut | None = Field(default=None, description="a glossary import: the key's glossary now")


class DeletedOut(BaseModel):
    deleted: int = Field(description="units removed, history included (and glossary entries, where counted)")


class GlossaryEntryOut(BaseModel):
    source: str = Field(description="the French term")
    target: str = Field(description="its English, used wherever the term occurs")


class GlossaryOut(BaseModel):
    name: str | None = Field(description="null: the key has no glossary")
    created: str | None = None
    updated: str | None = None
    entries: list[GlossaryEntryOut]


class SentenceChangeOut(BaseModel):
    block: int
    sentence: int = Field(description="the sentence's index in its block")
    fr: str
    before: str = Field(description="the English the document had")
    after: str = Field(description="the English it has now")
    source: str = Field(description="where `after` came from: `memory:context`, `memory:exact`, `memory:placeables`")


class DocumentChangeOut(BaseModel):
    id: str
    name: str
    sentences: list[SentenceChangeOut]


class AppliedOut(BaseModel):
    """What `POST /v1/jobs/{id}/apply-memory` changed."""

    checked: int = Field(description="documents of the job looked up in the memory")
    documents: list[DocumentChangeOut] = Field(description="the documents rewritten, each with its changed sentences")
    sentences: int = Field(description="sentences changed, in all")
    finished: bool = Field(
        default=True,
        description="false only from GET: the last application stopped midway (POST again to finish it); "
        "the documents it had rewritten are listed",
    )
