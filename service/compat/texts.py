"""What both compatible APIs do underneath: check the key, detect French, translate a list of texts.

All texts of one request become one `Document` (one block per paragraph or HTML text node), so
they are translated by one `translate_interactive` call: the same scheduler, cache, metrics and
`max_sentences` limit as `/v1/translate`, and the request's sentences batch together.

Everything before the translation (counting, size checks, parsing, language detection) is plain
CPU work on the request's texts: the routes run it in a worker thread (`run_in_threadpool`), never on
the event loop, and the number of texts is capped (`compat_max_items`) before any of it starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial

from models.beams import distinct_others
from models.document import BilingualBlock, BilingualSentence, Block, BlockKind, Document
from models.engine import GenerationOptions
from models.html_text import HtmlError, HtmlText
from models.langdetect import Detection, check_french
from models.memory import MemoryUse
from models.parse import ParseError, parse
from models.pipeline import DocumentTooLarge, english_with
from models.repair import Fidelity
from models.request import TranslationRequest
from service.auth import key_is_valid
from service.deps import AppState, get_scheduler
from service.errors import ApiError
from service.translation import translate_interactive

LANGUAGE_NAMES = {
    "fr": "French",
    "en": "English",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
}

NO_MEMORY = MemoryUse()  # no memory: DeepL's routes without translation_memory


def check_key(state: AppState, candidate: str | None) -> None:
    """The same keys as `/v1` (BITEXT_API_KEYS), whichever way the client's API carries them."""
    keys = state.settings.api_keys
    if keys and not key_is_valid(candidate, keys):
        raise ApiError(403, "unauthorized", "invalid or missing API key")


def require_french(texts: Sequence[str]) -> list[Detection]:
    """French and how sure, for each of `texts`; a 400 naming the first that is confidently
    another language (the model is fr→en only). Too short to tell is given the benefit of the doubt."""
    out: list[Detection] = []
    for index, text in enumerate(texts):
        check = check_french(text)
        other = check.other
        if other is not None:
            which = f"text {index + 1} of {len(texts)}" if len(texts) > 1 else "the text"
            name = LANGUAGE_NAMES.get(other.language, other.language)
            raise ApiError(
                400,
                "unsupported_language",
                f"{which} looks like {name} ({other.language}, {other.confidence:.0%} sure), not French; "
                "this server translates French to English only",
                language=other.language,
            )
        out.append(check.french)
    return out


@dataclass(frozen=True)
class Item:
    """One text of the request, parsed: its blocks, and how to put its English back together."""

    document: Document | None  # plain text
    html: HtmlText | None

    @property
    def blocks(self) -> tuple[Block, ...]:
        if self.html is not None:
            markups = self.html.markups or ("",) * len(self.html.texts)
            return tuple(
                Block(BlockKind.PARAGRAPH, text, markup=markup)
                for text, markup in zip(self.html.texts, markups, strict=True)
            )
        assert self.document is not None
        return self.document.blocks

    def visible_text(self) -> str:
        return (
            "\n".join(self.html.texts) if self.html is not None else (self.document.render() if self.document else "")
        )

    def render(self, blocks: Sequence[BilingualBlock]) -> str:
        if self.html is not None:
            return self.html.render([block.en for block in blocks])
        assert self.document is not None
        parts = [self.document.separators[0]]
        for block, after in zip(blocks, self.document.separators[1:], strict=True):
            parts += [block.prefix, block.en, block.suffix, after]
        return "".join(parts)


def parse_item(text: str, html: bool, ignore_tags: Sequence[str] = (), one_block: bool = False) -> Item:
    """`one_block`: newlines do not end sentences (DeepL's split_sentences=nonewlines)."""
    try:
        if html:
            return Item(None, HtmlText.parse(text, ignore_tags))
        if one_block and text.strip():
            core = text.strip()
            start = text.index(core)
            return Item(
                Document((Block(BlockKind.PARAGRAPH, core),), (text[:start], text[start + len(core) :]), "text"), None
            )
        return Item(parse(text, "text"), None)
    except (ParseError, HtmlError) as error:
        raise ApiError(400, "unparsable", str(error)) from None


def check_items(state: AppState, count: int, status: int, message: str) -> None:
    """At most `compat_max_items` texts in one request; `message` is each API's own wording ({count}, {limit})."""
    limit = state.settings.compat_max_items
    if count > limit:
        raise ApiError(status, "too_many_items", message.format(count=count, limit=limit), limit=limit)


def check_size(state: AppState, texts: Sequence[str]) -> None:
    limit = state.settings.max_chars
    total = sum(len(text) for text in texts)
    if total > limit:
        raise ApiError(413, "too_many_characters", f"the text has {total} characters; the limit is {limit}")


async def translate_items(state: AppState, items: Sequence[Item], memory: MemoryUse = NO_MEMORY) -> list[str]:
    """Every item's English, in order, from one pass through the service's translator."""
    translated = await translate_blocks(state, items, memory=memory)
    return [item.render(blocks) for item, blocks in zip(items, translated, strict=True)]


async def translate_blocks(
    state: AppState,
    items: Sequence[Item],
    options: GenerationOptions = GenerationOptions(),
    memory: MemoryUse = NO_MEMORY,
) -> list[tuple[BilingualBlock, ...]]:
    """Every item's bilingual blocks, in order, from one pass through the service's translator."""
    scheduler = get_scheduler(state)
    per_item = [item.blocks for item in items]
    blocks = tuple(block for item_blocks in per_item for block in item_blocks)
    if not blocks:
        return [() for _ in items]
    # Each block with text is at least one sentence: too many is refused before any planning or tokenizing.
    worded = sum(1 for block in blocks if block.text.strip())
    if worded > state.settings.max_sentences:
        raise DocumentTooLarge(worded, state.settings.max_sentences)
    merged = Document(blocks, ("",) * (len(blocks) + 1), "text")
    fidelity = Fidelity.of(
        state.settings.repair, state.terms.merged(memory.terms)
    )  # the key's glossary over the server's
    asked = TranslationRequest(merged, options, fidelity, max_sentences=state.settings.max_sentences, memory=memory)
    result = await translate_interactive(state, scheduler, asked)
    out: list[tuple[BilingualBlock, ...]] = []
    start = 0
    for item_blocks in per_item:
        out.append(result.blocks[start : start + len(item_blocks)])
        start += len(item_blocks)
    return out


def alternatives(item: Item, blocks: Sequence[BilingualBlock], chosen: str, wanted: int) -> list[str]:
    """Up to `wanted` other whole translations of a plain-text item: the n-th uses every sentence's
    n-th alternative (its chosen English where it has fewer). HTML items get none, as in LibreTranslate."""
    if item.html is not None or not wanted:
        return []
    variants: list[str] = []
    for rank in range(wanted):
        pick = partial(_nth, rank=rank)
        variants.append(item.render([replace(block, en=english_with(block, pick)) for block in blocks]))
    return list(distinct_others(chosen, variants, wanted))


def _nth(sentence: BilingualSentence, rank: int) -> str:
    others = sentence.alternatives or ()
    return others[rank] if rank < len(others) else sentence.en
