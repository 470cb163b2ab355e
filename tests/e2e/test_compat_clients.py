"""Other people's clients against a live `bitext serve` (tiny checkpoint): libretranslatepy and `deepl`.

What these prove is that the real client libraries' requests are understood and our answers
parse in them, errors included; the (random-weight) English itself is not asserted.
"""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import deepl
import httpx
import pytest
from libretranslatepy import LibreTranslateAPI

from models.html_text import HtmlText
from tests.support.live import LiveServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KEY = "client-test-key"
FRENCH = "Le conseil municipal a adopté mardi soir un budget de transports."
ENGLISH = "The municipal council adopted a new transport budget on Tuesday evening."
HTML = '<p class="lead">Le conseil a voté <b>mardi soir</b>.</p><code>x = 1</code>'


@pytest.fixture(scope="module")
def server(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    log = tmp_path_factory.mktemp("compat-serve") / "serve.log"
    with LiveServer(tiny_checkpoint, log, BITEXT_API_KEYS=KEY, BITEXT_DEVICE="cpu") as live:
        yield live


def _structure(markup: str) -> list[str]:
    """The tags and attributes of an HTML fragment, its translatable text blanked out."""
    parsed = HtmlText.parse(markup)
    return parsed.render(["·"] * len(parsed.texts)).split("·")


# --- libretranslatepy ---------------------------------------------------------------------------


def test_libretranslatepy_translates_detects_and_lists(server: LiveServer) -> None:
    client = LibreTranslateAPI(server.url, api_key=KEY)
    english = client.translate(FRENCH, "fr", "en")
    assert isinstance(english, str) and english.strip()
    assert isinstance(client.translate(FRENCH, "auto", "en"), str)
    detected = client.detect(FRENCH)
    assert detected[0]["language"] == "fr" and detected[0]["confidence"] > 50
    codes = {language["code"]: language["targets"] for language in client.languages()}
    assert codes["fr"] == ["en"]


def test_libretranslatepy_wrong_key_and_wrong_pair_are_its_errors(server: LiveServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as wrong_key:
        LibreTranslateAPI(server.url, api_key="nope").translate(FRENCH, "fr", "en")
    assert wrong_key.value.code == 403 and "API key" in json.loads(wrong_key.value.read())["error"]
    client = LibreTranslateAPI(server.url, api_key=KEY)
    with pytest.raises(urllib.error.HTTPError) as wrong_pair:
        client.translate(FRENCH, "fr", "de")
    assert wrong_pair.value.code == 400 and "'de' is not supported" in json.loads(wrong_pair.value.read())["error"]
    with pytest.raises(urllib.error.HTTPError) as not_french:
        client.translate(ENGLISH, "auto", "en")
    assert not_french.value.code == 400 and "not French" in json.loads(not_french.value.read())["error"]


def test_libretranslate_shape_list_and_html_over_http(server: LiveServer) -> None:
    """libretranslatepy sends one string only; arrays and HTML are what Weblate and web pages send."""
    body = {"q": [FRENCH, "Bonjour.", ""], "source": "auto", "target": "en", "api_key": KEY}
    data = httpx.post(f"{server.url}/translate", json=body, timeout=60).json()
    assert len(data["translatedText"]) == 3 and data["translatedText"][2] == ""
    assert [d["language"] for d in data["detectedLanguage"]] == ["fr", "fr", "fr"]
    html = httpx.post(
        f"{server.url}/translate",
        json={"q": HTML, "source": "fr", "target": "en", "format": "html", "api_key": KEY},
        timeout=60,
    )
    assert _structure(html.json()["translatedText"]) == _structure(HTML)


# --- the official deepl library -----------------------------------------------------------------


@pytest.fixture(scope="module")
def translator(server: LiveServer) -> Iterator[deepl.Translator]:
    client = deepl.Translator(KEY, server_url=server.url, send_platform_info=False)
    yield client
    client.close()


def test_deepl_translates_a_string_a_list_and_html(translator: deepl.Translator) -> None:
    one = translator.translate_text(FRENCH, target_lang="EN-US")
    assert isinstance(one, deepl.TextResult) and one.text.strip() and one.detected_source_lang == "FR"
    assert one.billed_characters == len(FRENCH)
    many = translator.translate_text(
        [FRENCH, "Bonjour."], source_lang="FR", target_lang="EN-GB", split_sentences="nonewlines"
    )
    assert isinstance(many, list) and len(many) == 2
    html = translator.translate_text(HTML, target_lang="EN-US", tag_handling="html", preserve_formatting=True)
    assert isinstance(html, deepl.TextResult) and _structure(html.text) == _structure(HTML)


def test_deepl_languages_and_usage(translator: deepl.Translator) -> None:
    assert [language.code for language in translator.get_source_languages()] == ["FR"]
    assert {language.code for language in translator.get_target_languages()} == {"EN-GB", "EN-US"}
    usage = translator.get_usage()
    assert usage.character.valid and not usage.any_limit_reached


def test_deepl_translation_memory_is_the_callers_memory(server: LiveServer, translator: deepl.Translator) -> None:
    unit = {"source": FRENCH, "english": ENGLISH}
    headers = {"Authorization": f"Bearer {KEY}"}
    assert httpx.post(f"{server.url}/v1/memory/units", json=unit, headers=headers, timeout=60).status_code == 201
    used = translator.translate_text(FRENCH, target_lang="EN-US", translation_memory="default")
    assert isinstance(used, deepl.TextResult) and used.text == ENGLISH
    near = FRENCH.replace("mardi soir", "mercredi soir")  # one word changed: 90 %
    applied = translator.translate_text(near, target_lang="EN-US", translation_memory="default")
    assert isinstance(applied, deepl.TextResult) and applied.text == ENGLISH
    strict = translator.translate_text(
        near, target_lang="EN-US", translation_memory="default", translation_memory_threshold=95
    )
    assert isinstance(strict, deepl.TextResult) and strict.text != ENGLISH
    with pytest.raises(deepl.DeepLException, match="not found"):
        translator.translate_text(FRENCH, target_lang="EN-US", translation_memory="b4c9-unknown")
    httpx.delete(f"{server.url}/v1/memory", headers=headers, timeout=60)


def test_deepl_wrong_key_wrong_pair_and_not_french_are_its_exceptions(
    server: LiveServer, translator: deepl.Translator
) -> None:
    wrong = deepl.Translator("wrong-key", server_url=server.url, send_platform_info=False)
    with pytest.raises(deepl.AuthorizationException):
        wrong.translate_text(FRENCH, target_lang="EN-US")
    wrong.close()
    with pytest.raises(deepl.DeepLException, match="target_lang"):
        translator.translate_text(FRENCH, target_lang="DE")
    with pytest.raises(deepl.DeepLException, match="not French"):
        translator.translate_text(ENGLISH, target_lang="EN-US")
