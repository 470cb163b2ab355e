"""What `bitext translate` reads and writes: the input's bytes and kind, the -o file by its suffix, and the
one-line errors every command exits with."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from service.formats import Source
    from service.settings import Settings
    from service.textout import Output


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `message` and return the exit to raise; names in it (paths, archive members) are shown escaped."""
    from service.jobs.names import display_name

    shown = "\n".join(display_name(line) for line in message.split("\n"))
    typer.secho(f"error: {shown}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def read_input(source: str) -> bytes:
    try:
        return sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as error:
        raise fail(f"cannot read {source}: {error.strerror or error}") from None


def document_format(source: str, data: bytes) -> str | None:
    """The document format `source` is (by its bytes, then its name), None for text; refuses the rest."""
    from service import sniff

    name = "" if source == "-" else source
    try:
        kind = sniff.kind_of(data, name)
    except sniff.Mismatch as error:
        raise fail(f"{error}; bitext reads {sniff.readable()}") from None
    if kind is None:
        return None
    if kind.family is sniff.Family.ARCHIVE:
        shown = "an archive" if source == "-" else source
        raise fail(f"{kind.label}: translate {shown} with `bitext batch {shown} -o OUTDIR`")
    if kind.family is sniff.Family.OTHER or kind.format is None:
        raise fail(f"unsupported file type: {kind.label}; bitext reads {sniff.readable()}")
    return kind.format


def decoded(source: str, data: bytes) -> str:
    from service import sniff

    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise fail(
            f"cannot read {source}: it is not UTF-8 text (byte {data[error.start]:#04x} at offset {error.start});"
            f" bitext reads {sniff.readable()}, text in UTF-8"
        ) from None


def output_kind(output: Path | None, document_suffixes: tuple[str, ...]) -> Output:
    """What -o (or --html) writes, checked before the model loads."""
    from service import textout

    if output is None:
        return textout.Output.JSON
    chosen = textout.choose(output.suffix, document_suffixes)
    if chosen is None:
        shown = output.suffix or "a name without suffix"
        choices = textout.accepted(document_suffixes)
        raise fail(f"--output {output}: bitext cannot write {shown}; name it with one of {choices}")
    return chosen


def read_document(source: str, data: bytes, format: str, settings: Settings) -> Source:
    from service import formats

    try:
        return formats.read_source(data, format, settings.archive_limits())
    except formats.FormatError as error:
        raise fail(f"{Path(source).name}: {error.code}: {error}") from None


def deliver(payload: dict[str, Any], output: Path | None, kind: Output, document: Callable[[], bytes] | None) -> None:
    """Print the JSON, or write `output` as `kind` and say so in one line on stderr."""
    from service import textout

    if output is None:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    if kind is textout.Output.DOCUMENT and document is not None:
        data = document()
    elif kind is textout.Output.HTML:
        from service.web.export import render_standalone_html

        data = render_standalone_html(payload).encode("utf-8")
    elif kind is textout.Output.MARKDOWN:
        data = textout.render_markdown(payload).encode("utf-8")
    elif kind is textout.Output.ENGLISH:
        data = textout.render_english(payload).encode("utf-8")
    else:
        data = (json.dumps(payload, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    try:
        output.write_bytes(data)
    except OSError as error:
        raise fail(f"cannot write {output}: {error.strerror or error}") from None
    typer.echo(f"wrote {output} ({textout.counts(payload)})", err=True)
