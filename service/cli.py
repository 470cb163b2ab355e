"""`bitext serve | translate | batch | download-model`: the command line over the same engine and contract."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from models.loading import ModelLoadError
from service import cli_io
from service.cli_io import fail as _fail

if TYPE_CHECKING:  # imported lazily at run time to keep `--help` fast
    from rich.console import Console

    from models.engine import Engine
    from service.formats import CueStyle
    from service.settings import Settings

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="French→English translation with aligned bilingual output."
)

ModelOpt = Annotated[
    str | None, typer.Option("--model", "-m", help="hub id or local checkpoint directory [env: BITEXT_MODEL]")
]
DeviceOpt = Annotated[str | None, typer.Option("--device", help="auto, cpu or cuda [env: BITEXT_DEVICE]")]
DtypeOpt = Annotated[
    str | None,
    typer.Option("--dtype", help="auto, float32, bfloat16, int8 (CPU), float16 (GPU) [env: BITEXT_DTYPE]"),
]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="transformers, or ct2 (CTranslate2; converts the model once into a cache dir) [env: BITEXT_ENGINE]",
    ),
]

SubtitleStyleOpt = Annotated[
    str,
    typer.Option(
        "--subtitle-style",
        help="how a bilingual subtitle's English line is set apart: italic, none, or a colour (yellow, #ffcc00)",
    ),
]


def _cue_style(text: str) -> CueStyle:
    from service.formats import CueStyle

    try:
        return CueStyle.parse(text)
    except ValueError as error:
        raise _fail(f"--subtitle-style: {error}") from None


def _settings(**overrides: Any) -> Settings:
    from pydantic import ValidationError

    from service.settings import Settings

    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as error:  # e.g. --engine foo: one line naming the option, no traceback
        problems = "; ".join(
            f"--{'.'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg']}" for e in error.errors(include_input=False)
        )
        raise _fail(problems) from None


def configure_logging() -> None:
    """One handler for every logger: the hub and transformers add their own, which printed each line twice."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from huggingface_hub.utils import logging as hub_logging  # installs its handler on import: remove it after
    from transformers.utils import logging as hf_logging

    hub_logging.get_logger().handlers.clear()
    hf_logging.disable_default_handler()
    hf_logging.enable_propagation()


def _load(settings: Settings) -> Engine:
    from models.factory import load_engine

    try:
        return load_engine(settings.engine_spec())
    except ModelLoadError as error:
        raise _fail(str(error)) from None


def _load_saying(settings: Settings, console: Console) -> Engine:
    """`_load`, with a line before (a model takes seconds to load, a minute to download) and after."""
    import time

    from service.jobs.names import display_name

    console.print(f"loading model {display_name(settings.model)}…", markup=False, highlight=False)
    started = time.perf_counter()
    engine = _load(settings)
    info = engine.info
    console.print(
        f"model loaded in {time.perf_counter() - started:.1f} s ({info.engine} on {info.device}, {info.dtype})",
        markup=False,
        highlight=False,
    )
    return engine


@app.command()
def serve(
    model: ModelOpt = None,
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    engine_name: EngineOpt = None,
    host: Annotated[str | None, typer.Option(help="bind address [env: BITEXT_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="port [env: BITEXT_PORT]")] = None,
) -> None:
    """Load the model, then serve the HTTP API and the web page."""
    from service.app import create_app
    from service.server import AddressError, bind, run

    configure_logging()
    settings = _settings(model=model, device=device, dtype=dtype, engine=engine_name, host=host, port=port)
    try:  # the address first: a busy port is said at once, not after the model has loaded
        sock = bind(settings)
    except AddressError as error:
        raise _fail(str(error)) from None
    with sock:
        engine = _load(settings)  # before listening: a missing model is a clear exit, not a crash loop
        run(create_app(settings, engine=engine), settings, sock)


@app.command()
def translate(
    source: Annotated[str, typer.Argument(help="file to translate, or - for standard input")],
    format: Annotated[str, typer.Option("--format", "-f", help="auto, text, markdown, html or json")] = "auto",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="write here instead of printing JSON; by suffix: .json JSON, .html the side-by-side page, "
            ".md bilingual markdown, .txt the English; a .srt/.vtt/.docx/.odt/.epub input also its own suffix, "
            "a PDF .html or .epub: the bilingual document itself",
        ),
    ] = None,
    layout: Annotated[
        str, typer.Option("--layout", help="bilingual document layout: interleaved, side-by-side or english")
    ] = "interleaved",
    html: Annotated[
        Path | None,
        typer.Option("--html", help="also write the side-by-side view here, as one self-contained HTML file"),
    ] = None,
    model: ModelOpt = None,
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    engine_name: EngineOpt = None,
    num_beams: Annotated[int | None, typer.Option(help="beam size (default: the model's own)")] = None,
    repair: Annotated[
        bool | None,
        typer.Option(
            "--repair/--no-repair", help="retry loops and changed numbers, un-shout capitals [env: BITEXT_REPAIR]"
        ),
    ] = None,
    glossary: Annotated[
        Path | None,
        typer.Option(help='glossary/keep terms, JSON {"glossary": {…}, "keep": […]} [env: BITEXT_GLOSSARY_FILE]'),
    ] = None,
    subtitle_style: SubtitleStyleOpt = "italic",
) -> None:
    """Translate one article or document: aligned bilingual JSON on stdout, or a file with -o."""
    from models.engine import GenerationOptions
    from models.parse import ParseError, parse
    from models.pipeline import translate_document
    from service import formats
    from service.schemas import TranslateResponse
    from service.textout import Output

    if layout not in formats.LAYOUTS:
        raise _fail(f"--layout: use one of {', '.join(formats.LAYOUTS)}")
    style = _cue_style(subtitle_style)
    data = cli_io.read_input(source)
    in_format = cli_io.document_format(source, data)
    written = cli_io.output_kind(output, formats.output_suffixes(in_format) if in_format else ())
    settings = _settings(
        model=model, device=device, dtype=dtype, engine=engine_name, repair=repair, glossary_file=glossary
    )
    if in_format is not None:
        parsed = cli_io.read_document(source, data, in_format, settings)
        engine = _load(settings)
        result = translate_document(
            parsed.document, engine, GenerationOptions(num_beams=num_beams), warnings=parsed.warnings
        )
        result = formats.bilingual(parsed, result)
        suffix = output.suffix.lower() if output else None
        document = lambda: formats.write_source(parsed, result, layout, suffix, style)  # noqa: E731
    else:
        text = cli_io.decoded(source, data)
        if format == "auto" and source.lower().endswith(".json"):
            format = "json"
        try:
            parsed_text = parse(text, format)
            options = GenerationOptions(num_beams=num_beams)
        except (ParseError, ValueError) as error:
            raise _fail(str(error)) from None
        from models.glossary import GlossaryError, Terms, load_terms
        from models.repair import Fidelity

        try:
            terms = load_terms(settings.glossary_file) if settings.glossary_file else Terms()
        except GlossaryError as error:
            raise _fail(str(error)) from None
        engine = _load(settings)
        result = translate_document(parsed_text, engine, options, fidelity=Fidelity.of(settings.repair, terms))
        document = None
    payload = TranslateResponse.model_validate(result).model_dump(mode="json", exclude_none=True)
    cli_io.deliver(payload, output, written, document)
    if html is not None:
        cli_io.deliver(payload, html, Output.HTML, None)


@app.command()
def batch(
    archive: Annotated[Path, typer.Argument(help="directory, .zip, .tar[.gz|.bz2|.xz], .jsonl or .warc[.gz]")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="OUTDIR: JSON + HTML per document, index.html, manifest.jsonl")
    ],
    layout: Annotated[
        list[str] | None,
        typer.Option(
            "--layout",
            help="layout of each subtitle/office/e-book/PDF document written in its own format: interleaved, "
            "side-by-side or english; repeat for several (default: interleaved)",
        ),
    ] = None,
    model: ModelOpt = None,
    device: DeviceOpt = None,
    dtype: DtypeOpt = None,
    engine_name: EngineOpt = None,
    num_beams: Annotated[int | None, typer.Option(help="beam size (default: the model's own)")] = None,
    ray: Annotated[
        bool,
        typer.Option(
            "--ray", help="translate on Ray (extra \\[ray]): a local Ray instance, or the cluster at --ray-address"
        ),
    ] = False,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            metavar="ADDRESS",
            help="join this Ray cluster (host:port, ray://…, auto) [env: RAY_ADDRESS]",
        ),
    ] = None,
    subtitle_style: SubtitleStyleOpt = "italic",
    memory: Annotated[
        Path | None,
        typer.Option(help="translate with this memory: a TMX file, or a keyless server's memory.sqlite3"),
    ] = None,
    apply_memory: Annotated[
        bool, typer.Option("--apply-memory", help="rewrite OUTDIR's sentences --memory now answers; no new run")
    ] = False,
) -> None:
    """Translate every document of an archive; run the same command again to resume after a crash."""
    from rich.console import Console

    from models.engine import GenerationOptions
    from service import formats
    from service.jobs.console import RichObserver, print_summary, progress_bar
    from service.jobs.readers import ArchiveError, archive_kind
    from service.jobs.runner import BatchBusy, BatchRun, Driver, RunSpec
    from service.memory.files import batch_memory

    if not archive.exists():
        raise _fail(f"{archive}: no such file or directory")
    layouts = tuple(layout or (formats.DEFAULT_LAYOUT,))
    if unknown := [name for name in layouts if name not in formats.LAYOUTS]:
        raise _fail(f"--layout {unknown[0]}: use one of {', '.join(formats.LAYOUTS)}")
    style = _cue_style(subtitle_style)
    try:
        archive_kind(archive)
        options = GenerationOptions(num_beams=num_beams)
        use = batch_memory(memory, apply_memory, ray or bool(ray_address))  # a MemoryFileError is a ValueError
    except (ArchiveError, ValueError) as error:
        raise _fail(str(error)) from None
    settings = _settings(model=model, device=device, dtype=dtype, engine=engine_name)
    if ray_address:
        ray = True
    if ray:
        try:
            import ray as _ray  # noqa: F401 - only to fail early with the install hint
        except ImportError:
            raise _fail("--ray needs Ray: pip install 'bitext[ray]'") from None
    console = Console(stderr=True)
    engine = None if ray else _load_saying(settings, console)  # with Ray, each actor loads its own
    if engine is None:
        from service.jobs.names import display_name

        where = f"the Ray cluster at {ray_address}" if ray_address else "Ray"
        console.print(
            f"starting {where}: each engine actor loads model {display_name(settings.model)}…",
            markup=False,
            highlight=False,
        )
    if apply_memory and engine is not None:
        from service.jobs.retro import apply_with_cache, report_lines

        target = RunSpec(archive, output, options, settings.batch_config(layouts, subtitle_style=style))
        for line in report_lines(apply_with_cache(target, engine, use)):
            typer.echo(line)
        return
    run: Driver
    with progress_bar(console) as progress:
        spec = RunSpec(
            archive, output, options, settings.batch_config(layouts, subtitle_style=style), RichObserver(progress)
        )
        if engine is None:
            from service.jobs.ray_runner import RayBatchRun

            run = RayBatchRun(spec, settings, address=ray_address)
        else:
            run = BatchRun(spec, engine, memory=use)
        try:
            summary = run.run()
        except (ArchiveError, BatchBusy) as error:
            raise _fail(str(error)) from None
        except Exception as error:
            if not ray or not type(error).__module__.startswith("ray"):
                raise
            # e.g. an actor could not load the model: Ray's error carries the cause; finished documents are saved
            raise _fail(f"the Ray run stopped: {str(error).strip()[-2000:]}", 1) from None
        except KeyboardInterrupt:
            summary = run.summary
            progress.stop()
            print_summary(console, summary, output)
            raise _fail(
                "interrupted; finished documents are saved, run the same command again to resume", 130
            ) from None
    print_summary(console, summary, output)
    if summary.failed:
        raise typer.Exit(1)


@app.command()
def xliff(
    outdir: Annotated[Path, typer.Argument(help="a batch OUTDIR (bitext batch -o, or a job's results)")],
    output: Annotated[Path, typer.Option("--output", "-o", help="the XLIFF 2.0 file to write")],
) -> None:
    """Every translated document of a batch OUTDIR as one XLIFF 2.0 file, a <file> per document, to post-edit
    in a CAT tool; import it back with POST /v1/memory/import."""
    from service.jobs import outputs
    from service.memory.exchange import ExchangeError
    from service.memory.xliff_job import outdir_xliff

    if not (outdir / outputs.MANIFEST).is_file():
        raise _fail(f"{outdir}: no {outputs.MANIFEST}, not a batch output directory")
    try:
        data = outdir_xliff(outdir)
    except ExchangeError as error:
        raise _fail(f"{outdir}: {error}") from None
    try:
        output.write_bytes(data)
    except OSError as error:
        raise _fail(f"{output}: {error.strerror or error}") from None
    typer.echo(f"{output} written")


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
