"""Every limit and default of the service in one place, overridable by `BITEXT_*` variables."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.loading import DEFAULT_MODEL


class Settings(BaseSettings):
    """Read from the environment (prefix `BITEXT_`) and an optional `.env` file."""

    model_config = SettingsConfigDict(env_prefix="BITEXT_", env_file=".env", extra="ignore")

    model: str = Field(DEFAULT_MODEL, description="Hugging Face hub id or local checkpoint directory")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16", "int8"] = "auto"
    threads: int | None = Field(None, ge=1, description="torch CPU threads; default: all cores")
    warmup: bool = Field(True, description="translate one sentence at start-up before reporting ready")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)

    max_body_bytes: int = Field(2_000_000, ge=1024, description="largest request body accepted (413 past it)")
    max_chars: int = Field(200_000, ge=1, description="largest text, in characters, one request may carry")
    max_sentences: int = Field(5_000, ge=1, description="most sentences one request may carry")
    max_beams: int = Field(8, ge=1, le=8, description="largest num_beams a request may ask for")

    batch_max_tokens: int = Field(4096, ge=64, description="padded source tokens in one generate call")
    batch_max_sentences: int = Field(64, ge=1, description="sentences in one generate call")


@lru_cache
def get_settings() -> Settings:
    return Settings()
