"""Tests for models.segment: French sentence splitting and token windows."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.segment import Span, split_sentences, split_windows


def sents(text: str) -> list[str]:
    """Sentence texts, after checking the spans are a lossless split."""
    spans = split_sentences(text)
    assert_lossless(text, spans, Span(0, len(text)))
    return [text[s.start : s.end] for s in spans]


def assert_lossless(text: str, spans: list[Span], outer: Span) -> None:
    """Spans ordered, inside ``outer``, non-empty, stripped; gaps whitespace only."""
    prev = outer.start
    for span in spans:
        assert isinstance(span, Span)
        assert outer.start <= prev <= span.start < span.end <= outer.end, (span, prev)
        gap = text[prev : span.start]
        assert gap == "" or gap.isspace(), (span, gap)
        body = text[span.start : span.end]
        assert not body[0].isspace() and not body[-1].isspace(), body
        prev = span.end
    tail = text[prev : outer.end]
    assert tail == "" or tail.isspace(), tail


def tokens(s: str) -> int:
    """Stand-in for a subword tokenizer: words plus one token per 7 chars."""
    return len(s.split()) + len(s) // 7


class Counter:
    """count_tokens wrapper that records how often it is called."""

    def __init__(self, fn: Callable[[str], int] = tokens) -> None:
        self.fn = fn
        self.calls = 0

    def __call__(self, s: str) -> int:
        self.calls += 1
        return self.fn(s)


# ---------------------------------------------------------------------------
# split_sentences: rules by name
# ---------------------------------------------------------------------------

NO_SPLIT = [
    ("abbr_M", "M. Dupont, ministre de l'Économie, présentera le budget mardi."),
    ("abbr_Mme", "Mme. Durand a quitté le gouvernement hier soir."),
    ("abbr_MM", "MM. Dupont et Martin ont signé l'accord à Bruxelles."),
    ("abbr_Mmes", "Mmes. Leroy et Petit siègent au conseil municipal."),
    ("abbr_Mlle", "Mlle. Roux a remporté la finale du tournoi."),
    ("abbr_Dr", "Le Dr. Lambert a témoigné devant la commission."),
    ("abbr_Pr", "Selon le Pr. Bernard, l'épidémie recule nettement."),
    ("abbr_St_hyphen", "Le match de St-Étienne a été reporté à dimanche."),
    ("abbr_St", "La foire de St. Denis ouvre ses portes samedi."),
    ("abbr_Ste", "La basilique Ste. Marie a rouvert ses portes au public."),
    ("abbr_p", "Le rapport, p. 45, détaille les dépenses de l'État."),
    ("abbr_pp", "Les chiffres figurent aux pp. 12-14 du document."),
    ("av_JC", "La ville fut fondée en 52 av. J.-C. par les Romains."),
    ("apr_JC", "L'empereur mourut en 14 apr. J.-C. à Nola."),
    ("sept_date", "Le scrutin a eu lieu le 13 sept. 2023 dans tout le pays."),
    ("en_sept_year", "La loi a été votée en sept. 2023."),
    ("janv", "Le 3 janv. 2024, le Parlement a adopté le texte."),
    ("fevr", "Depuis févr. 2022, les prix de l'énergie ont bondi."),
    ("oct", "Le sommet se tiendra fin oct. à Lyon."),
    ("nov", "Les élections sont prévues le 5 nov. 2024."),
    ("dec", "Le 31 déc. 2023, la réforme est entrée en vigueur."),
    ("etc_lowercase", "Il a évoqué les salaires, les retraites, etc. et la santé."),
    ("cf", "Les résultats (cf. Tableau 2) confirment la tendance."),
    ("art", "Selon l'art. 49 de la Constitution, le gouvernement engage sa responsabilité."),
    ("n_degree", "La loi n° 2023-270 a été promulguée en avril."),
    ("no", "Le décret no. 45 a été publié au Journal officiel."),
    ("vol", "Ses mémoires, vol. 2, paraissent la semaine prochaine."),
    ("ed", "Le livre, éd. Gallimard, est en tête des ventes."),
    ("initials", "J. K. Rowling a publié un nouveau roman."),
    ("initials_Ch", "Ch. de Gaulle a prononcé l'appel du 18 Juin à Londres."),
    ("initials_hyphenated", "Selon J.-F. Copé, la droite est unie."),
    ("initials_JC_not_era", "Le groupe de J.-C. Decaux a signé le contrat."),
    ("abbr_bd", "Le siège est situé au 12 bd. Voltaire à Paris."),
    ("initials_Ch_capital", "Ch. Martin dirige désormais la rédaction."),
    ("decimal_comma", "La croissance a atteint 3,5 % au deuxième trimestre."),
    ("decimal_point", "La version 1.2 du logiciel corrige la faille."),
    ("thousands", "Le déficit s'élève à 1 000,50 euros par habitant."),
    (
        "quote_with_attribution",
        "«Je suis content. Merci», a déclaré M. Poutine.",
    ),
    (
        "quote_spaced_attribution",
        "« Nous avons gagné. C'est historique ! » s'est exclamé le maire.",
    ),
    ("quote_curly_embedded", "Il a dit “Nous partons. Demain.” et tout le monde a applaudi."),
    ("quote_straight_embedded", 'Le ministre a parlé de "crise. Grave" devant les députés.'),
    ("quote_question_attribution", "« Quoi ? » a demandé la journaliste."),
    ("quote_nested", "Il a lu : « Le texte dit “Non. Jamais.” et c'est tout. » à la tribune."),
    ("paren_ellipsis", "Le président a déclaré (...) qu'il ne céderait pas."),
    ("bracket_ellipsis", "« Nous resterons […] Jusqu'au bout », a-t-il dit."),
    ("ellipsis_lowercase", "Le ministre hésite… puis renonce à sa candidature."),
    ("single_newline", "Le gouvernement a présenté\nson projet de loi au Sénat."),
    ("newline_after_title", "Réforme des retraites\nLe texte arrive au Sénat."),
    ("no_space_after_period", "Le site lemonde.fr a publié l'info.Puis plus rien."),
]


@pytest.mark.parametrize("text", [t for _, t in NO_SPLIT], ids=[i for i, _ in NO_SPLIT])
def test_no_split(text: str) -> None:
    assert sents(text) == [text.strip()]


SPLIT = [
    ("period", "Le Sénat a voté. Les députés suivront.", ["Le Sénat a voté.", "Les députés suivront."]),
    ("question", "Que fera l'Élysée ? Nul ne le sait.", ["Que fera l'Élysée ?", "Nul ne le sait."]),
    ("exclamation", "Quelle victoire ! Les supporters exultent.", ["Quelle victoire !", "Les supporters exultent."]),
    ("ellipsis_char", "Il attend… Rien ne vient.", ["Il attend…", "Rien ne vient."]),
    ("ellipsis_dots", "Il attend... Rien ne vient.", ["Il attend...", "Rien ne vient."]),
    ("interrobang", "Encore une hausse ?! Les ménages s'inquiètent.", ["Encore une hausse ?!", "Les ménages s'inquiètent."]),
    ("double_bang", "Incroyable !! Le record est battu.", ["Incroyable !!", "Le record est battu."]),
    ("no_space_question", "Pourquoi?? Personne ne répond.", ["Pourquoi??", "Personne ne répond."]),
    (
        "closing_guillemet_then_sentence",
        "Il a dit : « Oui. » Puis il est parti.",
        ["Il a dit : « Oui. »", "Puis il est parti."],
    ),
    (
        "closing_guillemet_nbsp",
        "Il a dit\u00a0: «\u00a0Oui.\u00a0» Puis il est parti.",
        ["Il a dit\u00a0: «\u00a0Oui.\u00a0»", "Puis il est parti."],
    ),
    (
        "closing_curly_then_sentence",
        "Elle a répondu : “Jamais.” Le débat est clos.",
        ["Elle a répondu : “Jamais.”", "Le débat est clos."],
    ),
    (
        "closing_straight_then_sentence",
        'Elle a répondu : "Jamais." Le débat est clos.',
        ['Elle a répondu : "Jamais."', "Le débat est clos."],
    ),
    (
        "standalone_quote",
        "« Nous ne céderons pas. » Le Premier ministre a quitté la salle.",
        ["« Nous ne céderons pas. »", "Le Premier ministre a quitté la salle."],
    ),
    (
        "standalone_quote_after_sentence",
        "Le maire est formel. « La ville paiera. » Les habitants attendent.",
        ["Le maire est formel.", "« La ville paiera. »", "Les habitants attendent."],
    ),
    (
        "closing_paren_then_sentence",
        "Le texte est adopté (à une voix près.) Les débats reprendront lundi.",
        ["Le texte est adopté (à une voix près.)", "Les débats reprendront lundi."],
    ),
    (
        "paren_ellipsis_at_end",
        "Il a cité Hugo (...). Puis il s'est tu.",
        ["Il a cité Hugo (...).", "Puis il s'est tu."],
    ),
    (
        "etc_uppercase",
        "Il a parlé d'emploi, d'école, de santé, etc. Puis il a conclu.",
        ["Il a parlé d'emploi, d'école, de santé, etc.", "Puis il a conclu."],
    ),
    (
        "JC_at_sentence_end",
        "César est mort en 44 av. J.-C. Puis Auguste a régné.",
        ["César est mort en 44 av. J.-C.", "Puis Auguste a régné."],
    ),
    (
        "sept_numeral",
        "Ils étaient sept. Puis ils sont partis ensemble.",
        ["Ils étaient sept.", "Puis ils sont partis ensemble."],
    ),
    (
        "vol_word",
        "Il est accusé de vol. Le procès s'ouvre demain.",
        ["Il est accusé de vol.", "Le procès s'ouvre demain."],
    ),
    (
        "art_word",
        "Il vit pour l'art. Sa famille le soutient.",
        ["Il vit pour l'art.", "Sa famille le soutient."],
    ),
    (
        "after_abbreviated_title",
        "Le rapport est signé du Dr. Lambert. Il sera publié lundi.",
        ["Le rapport est signé du Dr. Lambert.", "Il sera publié lundi."],
    ),
    ("unit_m_end", "Il a sauté 8,95 m. Un record de France.", ["Il a sauté 8,95 m.", "Un record de France."]),
    ("digit_start", "Le bilan est lourd. 25 personnes sont mortes.", ["Le bilan est lourd.", "25 personnes sont mortes."]),
    ("number_end", "La version finale est la 1.2. Elle sort lundi.", ["La version finale est la 1.2.", "Elle sort lundi."]),
    ("newline_after_period", "Le Sénat a voté.\nLes députés suivront.", ["Le Sénat a voté.", "Les députés suivront."]),
    ("blank_line", "Réforme des retraites\n\nLe texte arrive au Sénat", ["Réforme des retraites", "Le texte arrive au Sénat"]),
    (
        "blank_line_with_spaces",
        "Premier paragraphe sans point \n \t\n second paragraphe",
        ["Premier paragraphe sans point", "second paragraphe"],
    ),
    ("blank_line_crlf", "Titre\r\n\r\nCorps du texte.", ["Titre", "Corps du texte."]),
    (
        "blank_line_after_abbreviation",
        "Voir p.\n\nLa suite du texte.",
        ["Voir p.", "La suite du texte."],
    ),
    (
        "blank_line_inside_quote",
        "« Il a dit oui.\n\nPuis il est parti », raconte-t-elle.",
        ["« Il a dit oui.", "Puis il est parti », raconte-t-elle."],
    ),
    (
        "mixed_news",
        "M. Dupont a annoncé mardi 13 sept. 2023 une hausse de 3,5 %. « C'est un effort. "
        "Il est nécessaire », a-t-il dit. Les syndicats, eux, dénoncent un « recul » !",
        [
            "M. Dupont a annoncé mardi 13 sept. 2023 une hausse de 3,5 %.",
            "« C'est un effort. Il est nécessaire », a-t-il dit.",
            "Les syndicats, eux, dénoncent un « recul » !",
        ],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [(t, e) for _, t, e in SPLIT], ids=[i for i, _, _ in SPLIT]
)
def test_split(text: str, expected: list[str]) -> None:
    assert sents(text) == expected


@pytest.mark.parametrize("text", ["", " ", "\n\n\t ", "\u00a0\u2029\u3000"], ids=["empty", "space", "blank_lines", "unicode_spaces"])
def test_whitespace_only(text: str) -> None:
    assert split_sentences(text) == []


def test_spans_are_code_point_offsets() -> None:
    text = "😀 Le 🇫🇷 gagne. 漢字のテスト。 Fin."
    out = sents(text)
    assert out[0] == "😀 Le 🇫🇷 gagne."
    assert "".join(out).replace(" ", "") == text.replace(" ", "")


WEIRD = {
    "nul": "Il est parti.\x00 Puis\x00 revenu. Fin",
    "controls": "\x01\x02. \x1b[31mRouge. \x7f",
    "info_separators": "Un.\x1c Deux.\x1f Trois.\x85Quatre.",
    "bidi": "\u202eLe texte. \u202dEst inversé. \u2066x\u2069.",
    "emoji": "👍👍. 👨‍👩‍👧 Famille. 🇫🇷!",
    "cjk": "这是一个句子。这是另一个句子。 Fin.",
    "lone_surrogates": "Début \ud800. Suite \udfff. M. \udc00 Fin.",
    "only_punct": ".?!…«»“”\"'()[]",
    "line_separators": "Un.\u2028Deux.\u2029Trois.",
    "zero_width": "Mot\u200b. Autre\ufeff. Fin\u200d.",
}


@pytest.mark.parametrize("text", list(WEIRD.values()), ids=list(WEIRD))
def test_weird_unicode_never_raises(text: str) -> None:
    sents(text)


def test_single_line_break_after_sentence_end_vs_inside() -> None:
    text = "Le conseil a tranché\nhier soir. Les élus\nprotestent.\nLa séance est levée."
    assert sents(text) == [
        "Le conseil a tranché\nhier soir.",
        "Les élus\nprotestent.",
        "La séance est levée.",
    ]


# ---------------------------------------------------------------------------
# split_sentences: performance on pathological paragraphs (no timing asserted)
# ---------------------------------------------------------------------------

NEWS = (
    "Le gouvernement a présenté mardi une réforme des retraites, selon M. Dupont. "
    "Les syndicats appellent à la grève ! « Que faire ? » a demandé Mme Durand. "
    "Le texte, voté le 13 sept. 2023, date de 52 av. J.-C. selon certains (...). "
)

LONG = {
    "no_spaces": "a" * 200_000,
    "normal_text": (NEWS * (200_000 // len(NEWS) + 1))[:200_000],
    "unclosed_guillemets": "« " * 100_000,  # sentencex alone is quadratic here
    "dots_and_spaces": ". " * 100_000,
    "abbreviations": "M. " * 66_667,
}


@pytest.mark.parametrize("text", list(LONG.values()), ids=list(LONG))
def test_long_paragraph_completes_losslessly(text: str) -> None:
    spans = split_sentences(text)
    assert_lossless(text, spans, Span(0, len(text)))


def test_long_normal_text_splits_sentences() -> None:
    spans = split_sentences(LONG["normal_text"])
    assert len(spans) > 200_000 // len(NEWS) * 3


# ---------------------------------------------------------------------------
# split_sentences: properties
# ---------------------------------------------------------------------------

ANY_CHAR = st.one_of(
    st.characters(exclude_categories=()),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.sampled_from(list("\x00\x1c\x1d\x1e\x1f\x85\u2028\u2029\u202e\u200b\u00a0\u202f\n\r\t .?!…«»")),
)
FRENCH_PIECES = [
    " ", " ", " ", "\n", "\n\n", "\u00a0", "\t",
    ".", ".", "?", "!", "…", "...", "?!", "!!",
    "«", "»", "« ", " »", "“", "”", '"', "(", ")", "(...)",
    "M.", "Mme", "MM.", "Dr.", "p.", "av. J.-C.", "sept.", "etc.", "art.", "J.", "K.",
    "Le", "la", "Paris", "Il", "a dit", "mot", "vol", "é",
    "0", "3,5", "1 000", "2023", "13", ":", ",", ";",
]
FRENCHISH = st.lists(st.sampled_from(FRENCH_PIECES), max_size=60).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.text(ANY_CHAR, max_size=200))
def test_lossless_on_any_text(text: str) -> None:
    assert_lossless(text, split_sentences(text), Span(0, len(text)))


@settings(max_examples=400, deadline=None)
@given(FRENCHISH)
def test_lossless_on_frenchish_text(text: str) -> None:
    assert_lossless(text, split_sentences(text), Span(0, len(text)))


@settings(max_examples=150, deadline=None)
@given(FRENCHISH, FRENCHISH)
def test_blank_line_is_always_a_boundary(left: str, right: str) -> None:
    text = f"{left}\n\n{right}"
    cut = len(left) + 1
    for span in split_sentences(text):
        assert not span.start < cut < span.end


# ---------------------------------------------------------------------------
# split_windows
# ---------------------------------------------------------------------------


def window_texts(text: str, span: Span, count: Callable[[str], int], limit: int) -> list[str]:
    windows = split_windows(text, span, count, limit)
    assert_lossless(text, windows, span)
    assert all(count(text[w.start : w.end]) <= limit for w in windows)
    return [text[w.start : w.end] for w in windows]


def test_window_fits_returns_span_unchanged() -> None:
    text = "  Le Sénat a voté.  "
    span = Span(2, 18)
    counter = Counter()
    assert split_windows(text, span, counter, 100) == [span]
    assert counter.calls == 1


def test_window_prefers_punctuation_cut() -> None:
    text = "Les députés ont débattu toute la nuit du budget, puis ils ont voté le texte sans surprise"
    out = window_texts(text, Span(0, len(text)), lambda s: len(s.split()), 12)
    assert out[0].endswith("budget,")


def test_window_prefers_semicolon_and_colon() -> None:
    text = "Le ministre a tranché ; la réforme passera : les syndicats protestent vivement ce soir"
    out = window_texts(text, Span(0, len(text)), lambda s: len(s.split()), 6)
    assert out[:2] == ["Le ministre a tranché ;", "la réforme passera :"]


def test_window_ignores_punctuation_that_would_shrink_window() -> None:
    text = "Oui, le gouvernement présentera demain matin un texte très attendu par les élus locaux"
    out = window_texts(text, Span(0, len(text)), lambda s: len(s.split()), 8)
    assert out[0] == "Oui, le gouvernement présentera demain matin un texte"


def test_window_cuts_whitespace_without_punctuation() -> None:
    text = " ".join(["mot"] * 25)
    out = window_texts(text, Span(0, len(text)), lambda s: len(s.split()), 10)
    assert [len(w.split()) for w in out] == [10, 10, 5]


def test_window_no_space_run_cut_adjacent() -> None:
    text = "x" * 100
    windows = split_windows(text, Span(0, 100), len, 30)
    assert [(w.start, w.end) for w in windows] == [(0, 30), (30, 60), (60, 90), (90, 100)]


def test_window_long_word_inside_sentence() -> None:
    text = "Le mot " + "anticonstitutionnellement" * 4 + " est long."
    out = window_texts(text, Span(0, len(text)), len, 20)
    assert "".join(out).replace(" ", "") == text.replace(" ", "")


def test_window_keeps_combining_marks_with_base() -> None:
    text = "e\u0301" * 20
    windows = split_windows(text, Span(0, len(text)), len, 3)
    assert_lossless(text, windows, Span(0, len(text)))
    assert all(text[w.start] == "e" for w in windows)


def test_window_sub_span_of_larger_text() -> None:
    text = "Avant. " + "Le texte, très long, continue encore et encore sans fin. " * 5 + "Après."
    span = split_sentences(text)[1]
    out = window_texts(text, span, tokens, 9)
    assert len(out) > 1


def test_window_whitespace_span_that_does_not_fit() -> None:
    assert split_windows("     ", Span(0, 5), lambda s: len(s) + 1, 2) == []


def test_window_too_small_budget_raises() -> None:
    with pytest.raises(ValueError):
        split_windows("abc def", Span(0, 7), lambda s: 5 * len(s), 1)


def test_window_span_out_of_range_raises() -> None:
    with pytest.raises(ValueError):
        split_windows("abc", Span(0, 10), len, 5)


@pytest.mark.parametrize(
    "text",
    ["x" * 200_000, ("mot, " * 40_000)[:-1]],
    ids=["no_spaces_200k", "words_200k"],
)
def test_window_count_calls_logarithmic(text: str) -> None:
    counter = Counter()
    windows = split_windows(text, Span(0, len(text)), counter, 400)
    assert_lossless(text, windows, Span(0, len(text)))
    bound = 1 + len(windows) * (4 * math.ceil(math.log2(len(text))) + 4)
    assert counter.calls <= bound


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(FRENCHISH, st.text(ANY_CHAR, max_size=120)), st.integers(1, 40))
def test_windows_lossless_and_fit(text: str, limit: int) -> None:
    counter = Counter()
    body = text.strip()
    lead = len(text) - len(text.lstrip())
    whole = [Span(lead, lead + len(body))] if body else []
    for span in [*whole, *split_sentences(text)]:
        windows = split_windows(text, span, counter, limit)
        assert_lossless(text, windows, span)
        for w in windows:
            assert tokens(text[w.start : w.end]) <= limit
        for a, b in zip(windows, windows[1:]):
            if a.end == b.start:  # cut inside a non-space run
                assert not text[a.end - 1].isspace() and not text[b.start].isspace()
