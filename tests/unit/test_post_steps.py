"""The steps after translation are linear and stop with their request (issue 21, findings 4 and 5).

Markup placement (`place`, `place_in_order` and its fallback), the export's drawing of marks, and
the pipeline's assembly: doubling the input at most about doubles the time, and under
`models.interrupt.stop_when` each stops at its next poll once the check says nobody waits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from models.align import monotonic
from models.interrupt import POLL_EVERY, Interrupted, checkpoint, stop_when
from models.markup import (
    SentenceMarkup,
    parse_html_inline,
    parse_markdown,
    place,
    place_in_order,
    render_markdown,
    restore_codes,
    sentence_markup,
)
from models.parse import parse
from models.pipeline import translate_document
from service.schemas import BlockOut, TranslateResponse
from service.web.export import render_standalone_html
from service.web.layout import english_pieces, runs
from tests.support.fakes import FakeEngine
from tests.support.timing import assert_doubling_is_linear


def _markup(raw: str) -> tuple[SentenceMarkup, str, dict[int, tuple[int, int]]]:
    """One markdown sentence, and its English as a word-for-word engine gives it (codes restored)."""
    inline = parse_markdown(raw)
    markup = sentence_markup(inline, 0, len(inline.plain))
    english, code_spans, _ = restore_codes(markup.source, markup)
    return markup, english, code_spans


def _nested_export(blocks: int, depth: int) -> dict[str, Any]:
    """A translation's JSON whose every sentence has `depth` nested marks over 4 × `depth` characters."""
    result = translate_document(parse("Bonjour **le monde**.", "markdown"), FakeEngine(), alignment=True)
    document = TranslateResponse.model_validate(result).model_dump(mode="json", exclude_none=True)
    block = document["blocks"][0]
    plain = "mot " * depth
    block["sentences"][0] |= {
        "en_plain": plain,
        "en_marks": [{"kind": "em", "start": i, "end": len(plain) - i} for i in range(depth)],
    }
    document["blocks"] = [block | {"index": i} for i in range(blocks)]
    return document


# ---- doubling: linear, not quadratic ---------------------------------------------------------------


def test_translating_inline_markup_is_linear_in_the_elements() -> None:
    """Finding 5: `*mot* ` × N through the pipeline (placement on a monotonic alignment)."""

    def make(n: int) -> Callable[[], object]:
        document = parse("*mot* " * n, "markdown")
        return lambda: translate_document(document, FakeEngine())

    assert_doubling_is_linear(make, 8_000)


@pytest.mark.parametrize("tail", ["", " ` ` fin"], ids=["in_order", "laminar_fallback"])
def test_order_preserving_placement_is_linear_in_the_elements(tail: str) -> None:
    """`place_in_order` (and, with a code span that holds no word, its `_laminar` fallback)."""

    def make(n: int) -> Callable[[], object]:
        markup, english, code_spans = _markup("*mot* " * n + tail)
        return lambda: place_in_order(markup, english, code_spans)

    assert_doubling_is_linear(make, 16_000)


def test_placement_from_an_alignment_is_linear_in_the_elements() -> None:
    def make(n: int) -> Callable[[], object]:
        markup, english, code_spans = _markup("*mot* " * n)
        alignment = monotonic(markup.plain, english)
        return lambda: place(markup, english, code_spans, alignment)

    assert_doubling_is_linear(make, 16_000)


def test_putting_code_spans_back_is_linear_in_their_number() -> None:
    """`restore_codes` finds every placeholder in one pass (it searched the English once per code)."""

    def make(n: int) -> Callable[[], object]:
        inline = parse_markdown("mot `x` " * n)
        markup = sentence_markup(inline, 0, len(inline.plain))
        return lambda: restore_codes(markup.source, markup)

    assert_doubling_is_linear(make, 16_000)


def test_exporting_nested_marks_is_linear_in_the_marks() -> None:
    """Finding 4: the export draws each mark once, however deeply marks nest."""

    def make(depth: int) -> Callable[[], object]:
        document = _nested_export(60, depth)
        return lambda: render_standalone_html(document)

    assert_doubling_is_linear(make, 200, budget=5.0)


def test_writing_a_docx_paragraph_with_emphasis_is_linear_in_its_length() -> None:
    """The DOCX writer's English runs (bold, italic from the markdown): a slice per run, not a string
    copy per character."""
    from models.document import BilingualBlock, BlockKind
    from service.formats.docx_text import _segments

    def make(n: int) -> Callable[[], object]:
        block = BilingualBlock(0, BlockKind.PARAGRAPH, "x", "mot " * n + "**fin**", True, (), markup="markdown")
        return lambda: _segments(block)

    assert_doubling_is_linear(make, 100_000)


# ---- what the faster code draws -----------------------------------------------------------------


def test_nested_marks_open_and_close_once_each() -> None:
    from service.schemas import MarkOut

    plain = "abcdefgh"
    marks = [MarkOut(kind="em", start=i, end=len(plain) - i) for i in range(4)]
    drawn = runs(plain, marks)
    assert "".join(r.text for r in drawn) == plain
    assert sum(len(r.opens) for r in drawn) == sum(len(r.closes) for r in drawn) == 4
    # Crossing marks are drawn up to their parent's end (as the live page does), never unbalanced.
    crossing = runs("abcdef", [MarkOut(kind="strong", start=0, end=4), MarkOut(kind="em", start=2, end=6)])
    assert [(r.text, [w.tag for w in r.opens], [w.tag for w in r.closes]) for r in crossing] == [
        ("ab", ["strong"], []),
        ("cd", ["em"], ["em", "strong"]),
        ("ef", [], []),
    ]


def test_english_gaps_never_copy_the_french_twice() -> None:
    """Client offsets that all point back at the start cannot make each gap a copy of the whole French."""
    fr = "x" * 10_000
    sentences = [{"index": i, "start": 10_000, "end": 0, "fr": "", "en": "?", "flags": []} for i in range(200)]
    block = BlockOut.model_validate(
        {"index": 0, "kind": "paragraph", "fr": fr, "en": "", "translated": True, "sentences": sentences}
    )
    pieces = english_pieces(block)
    assert sum(len(p.text) for p in pieces) <= len(fr) + 2 * len(sentences)


def test_the_fallback_keeps_real_code_and_every_element_well_formed() -> None:
    """A code span holding only a space cannot be placed: it loses its markup (its space stays); the
    other elements keep their share of the words (they used to be widened to the whole sentence, a
    code span with them, and the real code span was lost)."""
    markup, english, code_spans = _markup("**le chat** ` ` [dort](https://a.fr) `x = 1` ici")
    text, placed = place_in_order(markup, english, code_spans)
    assert [e.kind for e, _, _ in placed] == ["code", "strong", "link"]
    assert render_markdown(text, placed) == "**le chat**   [dort `x = 1` ici](https://a.fr)"


def test_in_order_placement_gives_nested_elements_their_parents_words() -> None:
    inline = parse_html_inline('<b>le <i>chat <em>noir</em></i></b> et <a href="https://a.fr">le chien</a>')
    markup = sentence_markup(inline, 0, len(inline.plain))
    english = "the black cat and the dog"
    text, placed = place_in_order(markup, english, {})
    assert text == english
    assert [(e.kind, english[s:t]) for e, s, t in placed] == [
        ("strong", "the black cat"),
        ("em", "the black cat"),
        ("em", "the black cat"),
        ("link", "and the dog"),
    ]


# ---- stopping --------------------------------------------------------------------------------


class Countdown:
    """A stop check that says stop from its `after`-th call on, counting its calls."""

    def __init__(self, after: int) -> None:
        self.after, self.calls = after, 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.calls >= self.after


def test_checkpoint_polls_once_every_so_many_iterations() -> None:
    check = Countdown(10**9)
    with stop_when(check):
        for count in range(3 * POLL_EVERY):
            checkpoint(count)
    assert check.calls == 3
    checkpoint(0)  # no check in force: nothing to poll, nothing raised


@pytest.mark.parametrize(
    ("step", "after"),
    [("place", 2), ("place_in_order", 2), ("translate_document", 6), ("export", 2)],
)
def test_a_post_step_stops_at_its_next_poll_once_the_check_says_so(step: str, after: int) -> None:
    """The check says stop at its `after`-th poll: the step raises `Interrupted` right there, long
    before its end (a whole run polls many more times)."""
    markup, english, code_spans = _markup("*mot* " * 20_000)
    alignment = monotonic(markup.plain, english)
    document, export = parse("*mot* " * 20_000, "markdown"), _nested_export(1, 20_000)
    run: Callable[[], object] = {
        "place": lambda: place(markup, english, code_spans, alignment),
        "place_in_order": lambda: place_in_order(markup, english, code_spans),
        "translate_document": lambda: translate_document(document, FakeEngine()),  # stops while placing
        "export": lambda: render_standalone_html(export),
    }[step]
    whole = Countdown(10**9)
    with stop_when(whole):
        run()
    assert whole.calls > 4 * after
    check = Countdown(after)
    with stop_when(check), pytest.raises(Interrupted):
        run()
    assert check.calls == after


def test_a_client_that_disconnects_stops_the_placement_of_its_markup(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pipeline runs under `run_stoppable` (as `/v1/translate` runs it): a disconnect seen by its
    watcher stops the placement under way (`Cancelled`) instead of letting it finish for nobody."""
    import asyncio

    from models import assemble as pipeline  # where placement is called from
    from service.scheduler import Cancelled, CancelToken
    from service.translation import run_stoppable
    from tests.support.stopping import wait_for_stop

    class Client:
        gone = False

        async def is_disconnected(self) -> bool:
            return self.gone

    client, real, seen = Client(), pipeline.place, []

    def place_while_the_client_leaves(*args: Any) -> object:
        client.gone = True
        # the request's stop check is in force in the worker thread; placement outlasts the watcher's next look (0.1 s)
        seen.append(wait_for_stop())
        return real(*args)

    monkeypatch.setattr(pipeline, "place", place_while_the_client_leaves)
    token = CancelToken()
    document = parse("*mot* " * 20_000, "markdown")

    async def main() -> object:
        return await run_stoppable(
            translate_document,
            document,
            FakeEngine(),
            token=token,
            deadline=None,
            stopped=lambda: Cancelled("the client left"),
            client=client,
        )

    with pytest.raises(Cancelled):
        asyncio.run(main())
    assert seen == [True] and token.cancelled
