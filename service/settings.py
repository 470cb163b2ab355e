"""Every limit and default of the service in one place, overridable by `BITEXT_*` variables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from models.budgets import BudgetSettings
from models.engine import EngineSpec
from models.glossary import MAX_TERMS
from models.loading import DEFAULT_MODEL
from service.formats import Layout
from service.formats.cuestyle import DEFAULT_CUE_STYLE, CueStyle
from service.jobs.config import BatchConfig, GroupBounds
from service.jobs.limits import Limits

# The archive caps and group bounds are written once, in their own dataclasses; these settings default to them.
_LIMITS = Limits()
_GROUPS = GroupBounds()


class Settings(BaseSettings):
    """Read from the environment (prefix `BITEXT_`) and an optional `.env` file."""

    model_config = SettingsConfigDict(env_prefix="BITEXT_", env_file=".env", extra="ignore")

    model: str = Field(default=DEFAULT_MODEL, description="Hugging Face hub id or local checkpoint directory")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16", "int8"] = "auto"
    threads: int | None = Field(default=None, ge=1, description="torch CPU threads; default: all cores")
    engine_lanes: int | None = Field(
        default=None,
        ge=1,
        le=16,
        description=(
            "transformers engine: batches run side by side on the one loaded model, the threads shared out "
            "among them (docs/speed.md); default: 2 on a CPU with 2 or more cores, 1 on a GPU"
        ),
    )
    warmup: bool = Field(default=True, description="translate one sentence at start-up before reporting ready")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    max_body_bytes: int = Field(default=2_000_000, ge=1024, description="largest request body accepted (413 past it)")
    page_low_score: float = Field(
        default=-1.0,
        le=0,
        description=(
            "the page marks, quietly, English sentences whose `score` (mean log-probability per token, the "
            "model's own and uncalibrated) is below this"
        ),
    )
    max_chars: int = Field(default=200_000, ge=1, description="largest text, in characters, one request may carry")
    max_sentences: int = Field(default=5_000, ge=1, description="most sentences one request may carry")
    compat_max_items: int = Field(
        default=1000,
        ge=1,
        description="most texts one LibreTranslate (q) or DeepL (text) request may carry (400 / 413 past it)",
    )
    max_beams: int = Field(default=8, ge=1, le=8, description="largest num_beams a request may ask for")
    repair: bool = Field(
        default=False, description="repairs (loops, numbers, capitals) for requests that do not set options.repair"
    )
    max_glossary_terms: int = Field(
        default=MAX_TERMS,
        ge=0,
        le=MAX_TERMS,
        description=(
            "most glossary plus keep terms one request may carry, and most entries a key's imported glossary "
            "may have (422 past it)"
        ),
    )
    glossary_file: Path | None = Field(
        default=None,
        description='server-wide terms, UTF-8 JSON {"glossary": {"fr": "en"}, "keep": ["…"]}; requests add to it',
    )

    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated; empty: no keys required"
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated origins allowed by CORS; empty: CORS off"
    )
    request_timeout_seconds: float = Field(
        default=300.0, gt=0, description="an interactive translation past this gets 504 with how far it got"
    )
    shutdown_grace_seconds: float = Field(
        default=30.0, ge=0, description="on SIGTERM, how long in-flight requests may finish"
    )
    keep_alive_seconds: int = Field(
        default=75,
        ge=1,
        description=(
            "how long an idle keep-alive connection stays open; keep it above the idle expiry of the clients' "
            "pools and of any proxy in front (httpx 5 s, nginx upstream 60 s, AWS ALB 60 s), or a request sent "
            "as the server closes the connection is reset"
        ),
    )

    @field_validator(
        "batch_max_tokens", "batch_max_sentences", "batch_max_rows", "batch_group_sentences", mode="before"
    )
    @classmethod
    def _auto(cls, value: object) -> object:
        """`auto`, empty or 0: the per-device default (models/budgets.py) instead of a fixed number."""
        if value in (0, "0") or (isinstance(value, str) and value.strip().lower() in ("", "auto")):
            return None
        return value

    @property
    def budget(self) -> BudgetSettings:
        """The batch limits set explicitly; the engine fills the rest with its device's defaults."""
        return BudgetSettings(self.batch_max_tokens, self.batch_max_sentences, self.batch_max_rows)

    def archive_limits(self) -> Limits:
        """The caps every archive reader applies (the CLI's batch, the jobs API, Ray alike)."""
        return Limits(
            max_member_bytes=self.archive_max_member_bytes,
            max_total_bytes=self.archive_max_total_bytes,
            max_ratio=self.archive_max_ratio,
            max_entries=self.archive_max_entries,
            max_pdf_pages=self.archive_max_pdf_pages,
            max_pdf_chars=self.archive_max_pdf_chars,
            work_floor=self.archive_work_floor,
            work_per_byte=self.archive_work_per_byte,
        )

    def batch_config(
        self, layouts: Sequence[str] = (), max_output_bytes: int | None = None, subtitle_style: CueStyle | None = None
    ) -> BatchConfig:
        """One batch run's limits from these settings: the CLI's batch, a job (with its output cap) and Ray alike."""
        groups = GroupBounds(self.batch_group_sentences, self.batch_group_documents, self.batch_group_bytes)
        style = subtitle_style or DEFAULT_CUE_STYLE
        chosen = tuple(map(Layout, layouts))  # names the CLI and the jobs API checked
        return BatchConfig(self.archive_limits(), groups, self.max_sentences, max_output_bytes, chosen, style)

    def engine_spec(self) -> EngineSpec:
        """What `models.factory.load_engine` builds for these settings (server, CLI and Ray alike)."""
        return EngineSpec(
            model=self.model,
            kind=self.engine,
            device=self.device,
            dtype=self.dtype,
            budget=self.budget,
            threads=self.threads,
            inter_threads=self.ct2_inter_threads,
            cache_dir=self.ct2_cache_dir,
            lanes=self.engine_lanes or 0,
        )

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    batch_max_tokens: int | None = Field(
        default=None, ge=64, description="padded source tokens in one generate call; auto: per device"
    )
    batch_max_sentences: int | None = Field(
        default=None, ge=1, description="sentences in one generate call; auto: per device"
    )
    batch_max_rows: int | None = Field(
        default=None,
        ge=1,
        description="sentences x beams in one generate call; auto: per device (CPU 64, 16 at beam 4)",
    )
    engine: Literal["transformers", "ct2"] = Field(
        default="transformers", description="ct2: CTranslate2 (extra [ct2]), converted once"
    )
    ct2_cache_dir: Path | None = Field(
        default=None, description="where the ct2 engine keeps converted models; default ~/.cache/bitext/ct2"
    )
    ct2_inter_threads: int = Field(
        default=1, ge=1, description="ct2: batches run in parallel (threads is then per batch)"
    )
    cache_entries: int = Field(
        default=100_000, ge=0, description="translated sentences kept in the in-memory LRU cache; 0: no cache"
    )
    batching: bool = Field(default=True, description="pack sentences of concurrent requests into shared engine calls")
    batch_max_wait_ms: float = Field(
        default=5.0, ge=0, le=1000, description="how long a lone sentence waits for company before its batch runs"
    )
    queue_max_sentences: int = Field(
        default=20_000, ge=1, description="sentences waiting for the engine past which requests get 503"
    )

    data_dir: Path = Field(
        default=Path("bitext-data"), description="batch jobs: uploads, outputs and the SQLite job store"
    )
    memory_threshold: int = Field(
        default=75,
        ge=50,
        le=100,
        description="translation memory: lowest fuzzy match percentage offered (options.memory_threshold overrides)",
    )
    memory_max_import_bytes: int = Field(
        default=50_000_000,
        ge=1024,
        description="largest file (TMX, XLIFF, glossary) `POST /v1/memory/import` accepts, and largest answer "
        "`POST /v1/memory/xliff` takes (413 past it)",
    )
    jobs_max_upload_bytes: int = Field(
        default=1_000_000_000, ge=1024, description="largest archive `POST /v1/jobs` accepts (413 past it)"
    )
    jobs_max_output_bytes: int = Field(
        default=2_000_000_000,
        ge=1024,
        description="bytes of JSON and HTML one job may write; later documents are skipped (output_quota)",
    )
    jobs_max_active_per_key: int = Field(
        default=4,
        ge=1,
        description="uploading, queued or running jobs one API key may have (429 too_many_jobs past it)",
    )
    jobs_max_bytes_per_key: int = Field(
        default=10_000_000_000,
        ge=1024,
        description="bytes of uploads and outputs one API key may keep stored (413/429 quota_exceeded past it)",
    )
    jobs_retention_hours: float = Field(
        default=168.0, gt=0, description="a finished job (done or failed) is deleted this long after it finished"
    )
    archive_max_member_bytes: int = Field(
        default=_LIMITS.max_member_bytes,
        ge=1024,
        description="largest document inside an archive; bigger ones are skipped",
    )
    archive_max_total_bytes: int = Field(
        default=_LIMITS.max_total_bytes,
        ge=1024,
        description="most uncompressed bytes read from one archive",
    )
    archive_max_ratio: float = Field(
        default=_LIMITS.max_ratio,
        ge=2,
        description="compression ratio past which a member is taken for a bomb",
    )
    archive_max_entries: int = Field(
        default=_LIMITS.max_entries,
        ge=1,
        description="most members (JSONL lines, WARC records, files) read from one archive; the rest is skipped",
    )
    archive_max_pdf_pages: int = Field(
        default=_LIMITS.max_pdf_pages,
        ge=1,
        description="most pages a PDF may have; a longer one is skipped (too_many_pages)",
    )
    archive_max_pdf_chars: int = Field(
        default=_LIMITS.max_pdf_chars,
        ge=1000,
        description="most characters of text read from one PDF; a longer one is skipped (too_much_text)",
    )
    archive_work_per_byte: int = Field(
        default=_LIMITS.work_per_byte,
        ge=1,
        description=(
            "work reading one document may take per byte it holds (about a byte of content processed each: "
            "PDF forms and font maps each time they are read, zipped parts as inflated); past it too_much_work"
        ),
    )
    archive_work_floor: int = Field(
        default=_LIMITS.work_floor,
        ge=0,
        description="work any document may take whatever its size, beside its per-byte share",
    )
    batch_group_sentences: int | None = Field(
        default=_GROUPS.sentences,
        ge=1,
        description="sentences from many documents packed into one engine call; auto: 256, more on a GPU",
    )
    batch_group_documents: int = Field(
        default=_GROUPS.documents, ge=1, description="documents held for one group at most, whatever their sentences"
    )
    batch_group_bytes: int = Field(
        default=_GROUPS.bytes,
        ge=1024,
        description="memory one group's waiting documents may hold (their text as parsed), whatever their sentences",
    )
    jobs_database_url: str | None = Field(
        default=None,
        description=(
            "postgresql://… job store shared by replicas (extra [postgres]); unset: SQLite under data_dir (one process)"
        ),
        pattern=r"^$|^(postgres|postgresql)(\+psycopg)?://",
    )
    jobs_lease_seconds: float = Field(
        default=120.0, ge=5, description="shared job store: a running job without a heartbeat this long is taken over"
    )
    jobs_poll_seconds: float = Field(
        default=2.0, gt=0, le=60, description="shared job store: how often an idle replica looks for queued jobs"
    )
    jobs_events_seconds: float = Field(
        default=0.5,
        gt=0,
        le=30,
        description="GET /v1/jobs/{id}/events: how often the server reads a job's progress for its open streams",
    )
    ray_actors: int | None = Field(
        default=None,
        ge=1,
        description="bitext batch --ray: engine actors; default one per GPU, else one per ray_cpus_per_actor CPUs",
    )
    ray_cpus_per_actor: int = Field(
        default=1, ge=1, description="bitext batch --ray: CPUs (and torch threads) per CPU actor"
    )
    ray_batch_documents: int = Field(default=32, ge=1, description="bitext batch --ray: documents per actor call")
