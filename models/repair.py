"""Translate a batch of sentences with checks, protected terms and optional repairs.

Each step is a narrow answer to one documented opus-mt failure:

- ALL-CAPS input makes the model loop or garble (Opus-MT #49; the maintainers' advice is to
  avoid capitals): a mostly upper-case sentence is sent in sentence case, and the English is
  put back in upper case (`caps_restored`).
- Glossary and keep terms are swapped for placeholders and restored (`models.glossary`); if the
  model loses one, the sentence is translated again without them (`glossary_lost`).
- A repetition loop (Opus-MT #89) is translated again with `no_repeat_ngram_size` and a wider
  beam; the candidate with the smaller loop is kept (`repetition_repaired` when it is clean).
- Changed numbers are translated once more with a different beam; the retry is kept only if it
  carries more of the source's figures (`numbers_repaired` when all are back).

Every retry goes through the same `run` callable as the first pass (an engine's `translate` or
the service's batching queue), one batch per kind of retry, so repairs cost model time only
for the sentences that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from models.beams import DEFAULT_BEAMS, distinct_others
from models.checks import FLAG_NUMBERS_CHANGED, FLAG_REPETITION, check, loop_score
from models.document import Translation
from models.engine import MAX_BEAMS, GenerationOptions
from models.flags import Flag
from models.glossary import FLAG_GLOSSARY_LOST, Protected, Terms, protect, restore
from models.numbers import missing_numbers

Translate = Callable[[Sequence[str], GenerationOptions], list[Translation]]

FLAG_CAPS_RESTORED = Flag.CAPS_RESTORED
FLAG_REPETITION_REPAIRED = Flag.REPETITION_REPAIRED
FLAG_NUMBERS_REPAIRED = Flag.NUMBERS_REPAIRED

CAPS_MIN_LETTERS = 8
CAPS_SHARE = 0.8


@dataclass(frozen=True, slots=True)
class Fidelity:
    """Which repairs run and which terms are protected; checks always run. Off by default."""

    repetition: bool = False
    caps: bool = False
    numbers: bool = False
    terms: Terms = field(default_factory=Terms)

    @classmethod
    def of(cls, repair: bool, terms: Terms = Terms()) -> Fidelity:
        """Every repair or none (the switch requests and the CLI expose), with `terms` protected."""
        return cls.repairing(terms) if repair else cls(terms=terms)

    @classmethod
    def repairing(cls, terms: Terms = Terms()) -> Fidelity:
        """Every repair on: a request with `"repair": true`, or any request when BITEXT_REPAIR is set."""
        return cls(repetition=True, caps=True, numbers=True, terms=terms)


@dataclass(frozen=True, slots=True)
class Checked:
    """One sentence's chosen translation and the flags it carries."""

    translation: Translation
    flags: tuple[str, ...]


def mostly_upper(text: str) -> bool:
    """At least 8 cased letters, 80 % of them capitals, in two or more words: a shouted headline."""
    cased = [c for c in text if c.isupper() or c.islower()]
    if len(cased) < CAPS_MIN_LETTERS or sum(c.isupper() for c in cased) < CAPS_SHARE * len(cased):
        return False
    return sum(1 for word in text.split() if sum(c.isupper() for c in word) >= 2) >= 2


def sentence_case(text: str) -> str:
    """Lower case with the first letter capitalised: the form the model was trained on."""
    lowered = text.lower()
    for i, char in enumerate(lowered):
        if char.isalpha():
            return lowered[:i] + char.upper() + lowered[i + 1 :]
    return lowered


@dataclass(frozen=True, slots=True)
class _Input:
    """A source sentence and what the model is sent for it."""

    source: str
    caps: bool
    protected: Protected
    plain: str  # the model text without placeholders, for the glossary fallback

    @property
    def guarded(self) -> bool:
        return bool(self.protected.slots)


@dataclass(frozen=True, slots=True)
class _Candidate:
    translation: Translation
    flags: tuple[str, ...]  # the checks' flags
    lost: bool  # a placeholder did not come back


def _prepare(source: str, fidelity: Fidelity, fits: Callable[[str], bool]) -> _Input:
    caps = fidelity.caps and mostly_upper(source)
    plain = sentence_case(source) if caps else source
    protected = protect(plain, fidelity.terms)
    if protected.slots and not fits(protected.text):  # placeholders never push a piece over the window
        protected = Protected(plain)
    return _Input(source, caps, protected, plain)


def _finish(item: _Input, output: Translation, guarded: bool) -> _Candidate:
    text: str | None = output.text
    if guarded:
        text = restore(output.text, item.protected)
    if text is None:
        return _Candidate(output, (), lost=True)
    alternatives = _alternatives(item, output, guarded, text)
    if item.caps:  # checked as sent and as translated, before the capitals go back
        return _Candidate(
            replace(output, text=text.upper(), alternatives=alternatives), check(item.plain, text), lost=False
        )
    return _Candidate(replace(output, text=text, alternatives=alternatives), check(item.source, text), lost=False)


def _alternatives(item: _Input, output: Translation, guarded: bool, chosen: str) -> tuple[str, ...]:
    """The alternatives as the chosen text is given back: terms restored (one that lost a term is
    dropped), capitals put back, still distinct."""
    if not output.alternatives:
        return ()
    restored = [restore(text, item.protected) if guarded else text for text in output.alternatives]
    kept = [text.upper() if item.caps else text for text in restored if text is not None]
    return distinct_others(chosen.upper() if item.caps else chosen, kept, len(kept))


def _attempt(
    items: Sequence[_Input], run: Translate, options: GenerationOptions, guarded: Sequence[bool]
) -> list[_Candidate]:
    """One engine call for `items`; `guarded[i]`: send item i with its placeholders."""
    if not items:
        return []
    texts = [item.protected.text if guard else item.plain for item, guard in zip(items, guarded, strict=True)]
    outputs = run(texts, options)
    if len(outputs) != len(items):
        raise RuntimeError(f"the engine returned {len(outputs)} translations for {len(items)} sentences")
    return [_finish(*row) for row in zip(items, outputs, guarded, strict=True)]


def _retry(
    items: list[_Input],
    chosen: list[_Candidate],
    indices: list[int],
    run: Translate,
    options: GenerationOptions,
    guarded: list[bool],
) -> list[_Candidate]:
    """Translate `indices` again with `options` in one call, keeping each sentence's glossary state."""
    results = dict(
        zip(indices, _attempt([items[i] for i in indices], run, options, [guarded[i] for i in indices]), strict=True)
    )
    return [results[i] if i in results and not results[i].lost else chosen[i] for i in range(len(items))]


def _retry_options(options: GenerationOptions, no_repeat: bool) -> GenerationOptions:
    beams = options.num_beams or DEFAULT_BEAMS
    wider = min(MAX_BEAMS, beams + 2) if beams < MAX_BEAMS else beams - 2
    return replace(options, num_beams=wider, no_repeat_ngram_size=3 if no_repeat else options.no_repeat_ngram_size)


def first_texts(
    texts: Sequence[str], fidelity: Fidelity = Fidelity(), fits: Callable[[str], bool] = lambda _: True
) -> list[str]:
    """What `translate_checked`'s first engine call sends for `texts` (terms as placeholders, shouted
    sentences in sentence case): a caller may have them translated ahead and answer that call itself."""
    items = [_prepare(text, fidelity, fits) for text in texts]
    return [item.protected.text if item.guarded else item.plain for item in items]


def translate_checked(
    texts: Sequence[str],
    run: Translate,
    options: GenerationOptions = GenerationOptions(),
    fidelity: Fidelity = Fidelity(),
    fits: Callable[[str], bool] = lambda _: True,
) -> list[Checked]:
    """Translate `texts` (in order, one result each) and check, protect and repair as asked."""
    items = [_prepare(text, fidelity, fits) for text in texts]
    guarded = [item.guarded for item in items]
    chosen = _attempt(items, run, options, guarded)
    lost = [i for i, candidate in enumerate(chosen) if candidate.lost]
    if lost:  # a placeholder went missing: the sentence again, without protection
        for i, candidate in zip(
            lost, _attempt([items[i] for i in lost], run, options, [False] * len(lost)), strict=True
        ):
            chosen[i], guarded[i] = candidate, False
    extra: list[set[str]] = [set() for _ in items]
    for i in lost:
        extra[i].add(FLAG_GLOSSARY_LOST)
    for i, item in enumerate(items):
        if item.caps:
            extra[i].add(FLAG_CAPS_RESTORED)

    if fidelity.repetition:
        looping = [i for i, c in enumerate(chosen) if FLAG_REPETITION in c.flags]
        retried = _retry(items, chosen, looping, run, _retry_options(options, no_repeat=True), guarded)
        for i in looping:
            if loop_score(items[i].source, retried[i].translation.text) < loop_score(
                items[i].source, chosen[i].translation.text
            ):
                chosen[i] = retried[i]
                if FLAG_REPETITION not in chosen[i].flags:
                    extra[i].add(FLAG_REPETITION_REPAIRED)

    if fidelity.numbers:
        changed = [i for i, c in enumerate(chosen) if FLAG_NUMBERS_CHANGED in c.flags]
        retried = _retry(items, chosen, changed, run, _retry_options(options, no_repeat=False), guarded)
        for i in changed:
            before = len(missing_numbers(items[i].source, chosen[i].translation.text))
            after = len(missing_numbers(items[i].source, retried[i].translation.text))
            no_new_loop = FLAG_REPETITION not in retried[i].flags or FLAG_REPETITION in chosen[i].flags
            if after < before and no_new_loop:
                chosen[i] = retried[i]
                if FLAG_NUMBERS_CHANGED not in chosen[i].flags:
                    extra[i].add(FLAG_NUMBERS_REPAIRED)

    return [Checked(c.translation, c.flags + tuple(sorted(extra[i]))) for i, c in enumerate(chosen)]
