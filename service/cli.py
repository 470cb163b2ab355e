"""`bitext serve | translate | download-model`: the command line over the same engine and contract."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from models.loading import ModelLoadError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="French→English translation with aligned bilingual output.")

ModelOpt = Annotated[Optional[str], typer.Option("--model", "-m", help="hub id or local checkpoint directory [env: BITEXT_MODEL]")]
DeviceOpt = Annotated[Optional[str], typer.Option("--device", help="auto, cpu or cuda [env: BITEXT_DEVICE]")]
DtypeOpt = Annotated[Optional[str], typer.Option("--dtype", help="auto, float32, bfloat16, int8 (CPU), float16 (GPU) [env: BITEXT_DTYPE]")]


def _settings(**overrides: object):  # -> Settings; imported lazily to keep `--help` fast
    from service.settings import Settings

    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _load(settings):  # -> Engine
    from service.app import build_engine

    try:
        return build_engine(settings)
    except ModelLoadError as error:
        raise _fail(str(error)) from None


@app.command()
def serve(
    model: ModelOpt = None,
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    host: Annotated[Optional[str], typer.Option(help="bind address [env: BITEXT_HOST]")] = None,
    port: Annotated[Optional[int], typer.Option(help="port [env: BITEXT_PORT]")] = None,
) -> None:
    """Load the model, then serve the HTTP API and the web page."""
    import uvicorn

    from service.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings(model=model, device=device, dtype=dtype, host=host, port=port)
    engine = _load(settings)  # before binding the port: a missing model is a clear exit, not a crash loop
    uvicorn.run(create_app(settings, engine=engine), host=settings.host, port=settings.port, log_level="info")


@app.command()
def translate(
    source: Annotated[str, typer.Argument(help="file to translate, or - for standard input")],
    format: Annotated[str, typer.Option("--format", "-f", help="auto, text, markdown, html or json")] = "auto",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="write the JSON here instead of stdout")] = None,
    model: ModelOpt = None,
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    num_beams: Annotated[Optional[int], typer.Option(help="beam size (default: the model's own)")] = None,
) -> None:
    """Translate one article and print its aligned bilingual JSON."""
    from models.engine import GenerationOptions
    from models.parse import ParseError, parse
    from models.pipeline import translate_document
    from service.schemas import TranslateResponse

    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(f"cannot read {source}: {error}") from None
    if format == "auto" and source.endswith(".json"):
        format = "json"
    try:
        document = parse(text, format)
        options = GenerationOptions(num_beams=num_beams)
    except (ParseError, ValueError) as error:
        raise _fail(str(error)) from None
    engine = _load(_settings(model=model, device=device, dtype=dtype))
    result = translate_document(document, engine, options)
    payload = TranslateResponse.model_validate(result).model_dump(mode="json", exclude_none=True)
    rendered = json.dumps(payload, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(rendered)
    else:
        output.write_text(rendered, encoding="utf-8")


@app.command("download-model")
def download_model(model: ModelOpt = None) -> None:
    """Fetch the model into the Hugging Face cache (for Docker images and offline hosts)."""
    from models.loading import download_model as fetch

    settings = _settings(model=model)
    try:
        path = fetch(settings.model)
    except ModelLoadError as error:
        raise _fail(str(error)) from None
    typer.echo(f"{settings.model} is in {path}")


if __name__ == "__main__":  # pragma: no cover
    app()
