"""One self-contained HTML file of the side-by-side view: inline CSS, no script, no network request.

Used by the page's "Download HTML", by `bitext translate --html` and by batch jobs for every document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from models.interrupt import checkpoint
from service.schemas import TranslateResponse
from service.web.layout import most_sentences, rows
from service.web.render import environment, static_text

# The file forbids itself every fetch: anything that would reach the network is blocked by the browser.
EXPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def highlight_css(count: int) -> str:
    """Sentence k of a row highlights its partner on hover/focus, with CSS alone (`:has`)."""
    if count == 0:
        return ""
    selectors = ",\n".join(
        f'.row:has(.s[data-s="{k}"]:hover, .s[data-s="{k}"]:focus) .s[data-s="{k}"]' for k in range(count)
    )
    return selectors + " { background: var(--hl); color: var(--hl-fg); }\n"


def render_standalone_html(document: Mapping[str, Any]) -> str:
    """The response JSON (`TranslateResponse.model_dump(mode="json")`) as one HTML file.

    Raises pydantic.ValidationError when `document` does not follow the contract. Linear in the
    document (blocks, sentences, marks, text); under `models.interrupt.stop_when` it raises
    `Interrupted` once the check says nobody waits for it.
    """
    response = TranslateResponse.model_validate(document)
    table = rows(response.blocks)
    title = next(
        (block.en for block in response.blocks if block.kind == "title" and block.en.strip()), "bitext translation"
    )
    page = (
        environment()
        .get_template("standalone.html")
        .generate(
            doc=response,
            rows=table,
            title=title,
            csp=EXPORT_CSP,
            css=Markup(static_text("bitext.css")),
            highlight=Markup(highlight_css(most_sentences(table))),
        )
    )
    out: list[str] = []
    for count, chunk in enumerate(page):  # rendered piece by piece, so a request that is gone stops it
        checkpoint(count)
        out.append(chunk)
    return "".join(out)
