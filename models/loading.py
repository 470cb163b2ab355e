"""Finding and loading a Marian checkpoint: a hub id or a local directory, with errors a user can act on.

Hub downloads go through huggingface_hub and its usual cache, so `HF_HUB_OFFLINE=1`, `HF_HOME`
and `HF_ENDPOINT` behave as users of the Hugging Face stack expect.

Before any hub request, one quick reachability check (`models.reach`): an unreachable hub is a
clear error within seconds (or, when the model is cached, a load from the cache), never a minute
of the hub client's retries.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_MODEL = "Helsinki-NLP/opus-mt-fr-en"

# What a Marian checkpoint needs; the rest of a hub repo (TF/Flax weights, READMEs) is skipped.
CHECKPOINT_FILES = [
    "config.json",
    "generation_config.json",
    "*.safetensors",
    "pytorch_model.bin",
    "source.spm",
    "target.spm",
    "vocab.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
]


class ModelLoadError(RuntimeError):
    """The model cannot be had; the message names it, says why, and says what to do."""


OFFLINE_DOCS = "docs/production.md#offline-hosts"


def _ways_out(model: str, *, downloading: bool = False) -> str:
    """The two ways out; `downloading`: said by `download-model` itself, which must not advise running it."""
    network = (
        "give this machine network access to the Hugging Face hub and run it again"
        if downloading
        else f"give this machine network access to the Hugging Face hub once "
        f"(run `bitext download-model --model {model}` to fetch it into the cache)"
    )
    return (
        f"To fix it, either {network}, "
        f"or point bitext at a local checkpoint directory with `--model DIR` (or BITEXT_MODEL=DIR); "
        f"see {OFFLINE_DOCS}."
    )


def _looks_like_path(model: str) -> bool:
    return (
        model.startswith(("/", "./", "../", "~"))
        or os.sep in model.strip("/").split("/", 1)[-1]
        or Path(model).exists()
    )


def public_name(model: str) -> str:
    """What responses and /health/ready call the model: a hub id as given, a local checkpoint by
    its directory's name only, so no reply reveals where the server keeps its files."""
    if not _looks_like_path(model):
        return model
    path = Path(model).expanduser()
    return path.name or path.resolve().name or "local-model"


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _cached(model: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(model, "config.json"), str)


def _cache_only(model: str, *, downloading: bool = False) -> bool:
    """Whether a hub model must be read from the local cache alone: `HF_HUB_OFFLINE`, or a hub that
    does not answer (checked once, quickly). Raises ModelLoadError at once when the model is needed
    from an unreachable hub, instead of letting the hub client retry for a minute."""
    if offline():
        return True
    from huggingface_hub import constants

    from models.reach import unreachable

    problem = unreachable(constants.ENDPOINT)
    if problem is None:
        return False
    if _cached(model):
        log.warning(
            "the hub %s does not answer (%s): loading %s from the local cache", constants.ENDPOINT, problem, model
        )
        return True
    raise ModelLoadError(
        f"cannot {'download' if downloading else 'load'} model {model!r}: it is not in the local cache "
        f"and the Hugging Face hub at {constants.ENDPOINT} cannot be reached ({problem}). "
        f"{_ways_out(model, downloading=downloading)}"
    )


def load_marian(model: str) -> tuple[Any, Any]:
    """Load (tokenizer, model) for `model`, a hub id or a directory, or raise ModelLoadError."""
    from transformers import AutoConfig, MarianMTModel, MarianTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a progress bar per load is noise in service logs

    local = Path(model).expanduser()
    cache_only = False
    if local.is_dir():
        source: str = str(local)
    elif _looks_like_path(model):
        raise ModelLoadError(f"model directory {model!r} does not exist. {_ways_out(DEFAULT_MODEL)}")
    else:
        source = model
        cache_only = _cache_only(model)  # fails at once when the hub is needed and unreachable
        _announce_fetch(model)
    if local.is_dir() and not (local / "config.json").is_file():
        raise ModelLoadError(f"{model!r} is not a model directory: it has no config.json. {_ways_out(DEFAULT_MODEL)}")
    try:
        config = AutoConfig.from_pretrained(source, local_files_only=cache_only)
    except (OSError, ValueError) as error:
        reason = "HF_HUB_OFFLINE is set and it is not in the local cache" if offline() else _first_line(error)
        raise ModelLoadError(f"cannot load model {model!r}: {reason}. {_ways_out(model)}") from error
    if config.model_type != "marian":
        raise ModelLoadError(
            f"model {model!r} is a {config.model_type!r} checkpoint, not a Marian one; "
            f"bitext runs MarianMT models such as {DEFAULT_MODEL}."
        )
    try:
        tokenizer = MarianTokenizer.from_pretrained(source, local_files_only=cache_only)
        network = MarianMTModel.from_pretrained(source, local_files_only=cache_only)
    except (OSError, ValueError, TypeError) as error:
        raise ModelLoadError(
            f"model {model!r} is incomplete or damaged: {_first_line(error)}. {_ways_out(model)}"
        ) from error
    return tokenizer, network


def _announce_fetch(model: str) -> None:
    """One line before a hub fetch, so the minute of retries that may follow has a known cause."""
    from huggingface_hub import constants, try_to_load_from_cache

    if offline():
        log.info("model %s: HF_HUB_OFFLINE is set, reading it from the local cache %s", model, constants.HF_HUB_CACHE)
    elif not isinstance(try_to_load_from_cache(model, "config.json"), str):
        log.info(
            "model %s is not in the local cache %s: fetching it from %s",
            model,
            constants.HF_HUB_CACHE,
            constants.ENDPOINT,
        )


def download_model(model: str, *, downloading: bool = True) -> Path:
    """Fetch a hub model's checkpoint files into the huggingface_hub cache; return the snapshot dir.

    `downloading`: asked by `bitext download-model` itself (its error does not advise running it);
    False when a loader needs the files (the CTranslate2 engine), which may then read the cache alone.
    """
    from huggingface_hub import snapshot_download

    if Path(model).expanduser().is_dir():
        return Path(model).expanduser()
    if offline() and downloading:
        raise ModelLoadError(
            f"cannot download model {model!r}: HF_HUB_OFFLINE is set, so the hub is not asked. "
            f"Unset it where the hub can be reached, or point bitext at a local checkpoint directory "
            f"with `--model DIR` (or BITEXT_MODEL=DIR); see {OFFLINE_DOCS}."
        )
    cache_only = _cache_only(model, downloading=downloading)
    try:
        return Path(snapshot_download(repo_id=model, allow_patterns=CHECKPOINT_FILES, local_files_only=cache_only))
    except Exception as error:  # hub errors come in many classes; all mean the same to the user
        raise ModelLoadError(
            f"cannot download model {model!r}: {_first_line(error)}. {_ways_out(model, downloading=downloading)}"
        ) from error


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0].rstrip(".") if text else type(error).__name__
