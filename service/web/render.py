"""The jinja2 environment (autoescape always on) and the static files both views share."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from service.web.layout import flag_title

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"

CELL_TAGS = {"title": "h1", "heading": "h2", "verbatim": "pre"}
"""The element a block's text sits in, by kind; everything else is a paragraph."""


@lru_cache
def environment() -> Environment:
    """Autoescape everywhere: French, English and alt texts only ever reach HTML as text."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(flag_title=flag_title, cell_tags=CELL_TAGS)
    return env


@lru_cache
def static_text(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")
