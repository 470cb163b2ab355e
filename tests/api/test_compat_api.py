"""The LibreTranslate and DeepL shapes over the fake engine: fields, errors, keys, limits, one pipeline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings
from tests.support.fakes import FakeEngine

KEY = "k-compat"
DEEPL = {"Authorization": f"DeepL-Auth-Key {KEY}"}
ENGLISH = "The municipal council adopted a new transport budget on Tuesday evening."


@pytest.fixture
def client(fake_engine: FakeEngine) -> Iterator[TestClient]:
    settings = Settings(api_keys=KEY, max_body_bytes=20_000, max_chars=2_000, max_sentences=20)
    with TestClient(create_app(settings, engine=fake_engine)) as test_client:
        yield test_client


def _lt(client: TestClient, **fields: object):
    return client.post("/translate", json={"source": "fr", "target": "en", "api_key": KEY, **fields})


# --- LibreTranslate ----------------------------------------------------------------------------


def test_lt_form_body_as_libretranslatepy_sends_it(client: TestClient) -> None:
    response = client.post(
        "/translate", data={"q": "Bonjour. Au revoir.", "source": "fr", "target": "en", "api_key": KEY}
    )
    assert response.status_code == 200
    assert response.json() == {"translatedText": "EN<Bonjour.> EN<Au revoir.>"}


def test_lt_multipart_body_as_the_web_page_sends_it(client: TestClient) -> None:
    fields = {"q": (None, "Bonjour."), "source": (None, "fr"), "target": (None, "en"), "api_key": (None, KEY)}
    response = client.post("/translate", files=fields)
    assert response.status_code == 200 and response.json() == {"translatedText": "EN<Bonjour.>"}


def test_lt_array_is_one_engine_call_in_order_with_nothing_dropped(client: TestClient, fake_engine: FakeEngine) -> None:
    q = ["Un.", "", "Deux.\n\nTrois.", "  Quatre.  ", "42"]
    response = _lt(client, q=q)
    assert response.status_code == 200
    assert response.json() == {"translatedText": ["EN<Un.>", "", "EN<Deux.>\n\nEN<Trois.>", "  EN<Quatre.>  ", "42"]}
    assert fake_engine.calls == [
        ["Un.", "Deux.", "Trois.", "Quatre."]
    ]  # one batch through the scheduler for the whole request


def test_lt_auto_reports_the_detected_language_per_text(client: TestClient) -> None:
    response = _lt(client, q=["Le conseil municipal a adopté un budget.", "Ouvrir le fichier"], source="auto")
    data = response.json()
    assert response.status_code == 200 and len(data["translatedText"]) == 2
    assert [d["language"] for d in data["detectedLanguage"]] == ["fr", "fr"]
    assert all(50 < d["confidence"] <= 100 for d in data["detectedLanguage"])
    single = _lt(client, q="Le conseil municipal a adopté un budget.", source="auto").json()
    assert single["detectedLanguage"]["language"] == "fr" and isinstance(single["translatedText"], str)


def test_lt_auto_refuses_text_that_is_not_french(client: TestClient, fake_engine: FakeEngine) -> None:
    calls = len(fake_engine.calls)
    response = _lt(client, q=["Bonjour tout le monde.", ENGLISH], source="auto")
    assert response.status_code == 400
    message = response.json()["error"]
    assert "text 2 of 2" in message and "English (en" in message and "French to English only" in message
    assert len(fake_engine.calls) == calls  # nothing reached the model


def test_lt_html_keeps_markup(client: TestClient) -> None:
    response = _lt(client, q='<p class="x">Bonjour <b>le monde</b></p><code>x = 1</code>', format="html")
    assert response.json() == {"translatedText": '<p class="x">EN&lt;Bonjour <b>le monde&gt;</b></p><code>x = 1</code>'}


def test_lt_alternatives_are_the_beams_other_translations(client: TestClient) -> None:
    # The fake's beam gives EN2<x>, EN3<x> as the others: the n-th alternative of a text uses
    # every sentence's n-th one, in the text's own layout.
    response = _lt(client, q="Bonjour. Au revoir.\n\nMerci.", alternatives=2)
    assert response.status_code == 200
    assert response.json() == {
        "translatedText": "EN<Bonjour.> EN<Au revoir.>\n\nEN<Merci.>",
        "alternatives": [
            "EN2<Bonjour.> EN2<Au revoir.>\n\nEN2<Merci.>",
            "EN3<Bonjour.> EN3<Au revoir.>\n\nEN3<Merci.>",
        ],
    }


def test_lt_alternatives_per_text_in_a_batch_and_none_for_html(client: TestClient) -> None:
    batch = _lt(client, q=["Un.", "Deux."], alternatives=1).json()
    assert batch == {"translatedText": ["EN<Un.>", "EN<Deux.>"], "alternatives": [["EN2<Un.>"], ["EN2<Deux.>"]]}
    html = _lt(client, q="<p>Bonjour.</p>", format="html", alternatives=2).json()
    assert html["alternatives"] == []  # as LibreTranslate: none for HTML
    assert "alternatives" not in _lt(client, q="Bonjour.", alternatives=0).json()


@pytest.mark.parametrize(
    ("fields", "status", "fragment"),
    [
        ({"q": "Hallo", "source": "de"}, 400, "Source language 'de' is not supported"),
        ({"q": "Bonjour", "target": "es"}, 400, "Target language 'es' is not supported"),
        ({"q": "Bonjour", "target": ""}, 400, "missing target"),
        ({"source": "fr"}, 400, "missing q"),
        ({"q": "   "}, 400, "missing q"),
        ({"q": "Bonjour", "format": "docx"}, 400, "format 'docx' is not supported"),
        ({"q": ["Bonjour", 3]}, 400, "must be a string"),
        ({"q": "Bonjour", "alternatives": "two"}, 400, "whole number"),
        ({"q": "Bonjour", "alternatives": "²"}, 400, "whole number"),  # "²".isdigit() but int("²") fails
        ({"q": "Bonjour", "alternatives": "³⁴"}, 400, "whole number"),
        ({"q": "Bonjour", "alternatives": 5}, 400, "alternatives parameter must be <= 4"),
        ({"q": "Bonjour", "alternatives": "9" * 5000}, 400, "alternatives parameter must be <= 4"),  # int() raises
        ({"q": "Bonjour", "alternatives": True}, 400, "whole number"),  # not 1
        ({"q": "x" * 2_001}, 413, "the limit is 2000"),
        ({"q": ["x" * 1_000, "y" * 1_001]}, 413, "the limit is 2000"),
        ({"q": ". ".join(["Phrase"] * 30)}, 413, "sentences; the limit is 20"),
        ({"q": "Bonjour", "api_key": "wrong"}, 403, "invalid or missing API key"),
    ],
)
def test_lt_refusals_use_its_error_shape(
    client: TestClient, fields: dict[str, object], status: int, fragment: str
) -> None:
    response = _lt(client, **fields)
    assert response.status_code == status
    assert set(response.json()) == {"error"} and fragment in response.json()["error"]


def test_lt_key_may_also_come_as_a_header_and_bad_bodies_are_400(client: TestClient) -> None:
    form = {"q": "Bonjour.", "source": "fr", "target": "en"}
    assert client.post("/translate", data=form).status_code == 403
    assert client.post("/translate", data=form, headers={"X-API-Key": KEY}).status_code == 200
    for body, media in ((b"{", "application/json"), (b"[1]", "application/json"), (b"q=x", "text/plain")):
        response = client.post("/translate", content=body, headers={"Content-Type": media, "X-API-Key": KEY})
        assert response.status_code == 400 and "error" in response.json()
    upload = client.post("/translate", data=form, files={"file": ("a.txt", b"Bonjour")}, headers={"X-API-Key": KEY})
    assert upload.status_code == 400 and "file uploads" in upload.json()["error"]


def test_lt_detect_languages_and_settings(client: TestClient) -> None:
    detected = client.post("/detect", data={"q": "Le conseil municipal a adopté un budget.", "api_key": KEY}).json()
    assert detected[0]["language"] == "fr" and detected[0]["confidence"] > 50
    assert client.post("/detect", data={"q": "1234", "api_key": KEY}).json() == [{"confidence": 0.0, "language": "und"}]
    assert client.post("/detect", data={"q": "Bonjour"}).status_code == 403
    languages = client.get("/languages").json()
    assert {"code": "fr", "name": "French", "targets": ["en"]} in languages
    settings = client.get("/frontend/settings").json()
    assert settings["keyRequired"] is True and settings["charLimit"] == 2_000
    assert settings["language"]["source"]["code"] == "fr"
    assert client.post("/suggest", data={"q": "x"}).status_code == 403
    assert client.post("/translate_file").status_code == 403


# --- DeepL -------------------------------------------------------------------------------------


def _deepl(client: TestClient, headers: dict[str, str] = DEEPL, **fields: object):
    return client.post("/v2/translate", json={"target_lang": "EN-US", **fields}, headers=headers)


def test_deepl_json_with_several_texts(client: TestClient) -> None:
    response = _deepl(client, text=["Bonjour.", "Le chat dort."], source_lang="FR")
    assert response.status_code == 200
    assert response.json() == {
        "translations": [
            {"detected_source_language": "FR", "text": "EN<Bonjour.>", "billed_characters": 8},
            {"detected_source_language": "FR", "text": "EN<Le chat dort.>", "billed_characters": 13},
        ]
    }


def test_deepl_repeated_form_fields_and_every_english_target(client: TestClient) -> None:
    for target in ("EN", "en-gb", "EN-US"):
        response = client.post("/v2/translate", data={"text": ["Un.", "Deux."], "target_lang": target}, headers=DEEPL)
        assert [t["text"] for t in response.json()["translations"]] == ["EN<Un.>", "EN<Deux.>"]


def test_deepl_split_sentences_nonewlines_keeps_lines_in_one_sentence(client: TestClient) -> None:
    text = "Une phrase\nsur deux lignes. Puis une autre."
    default = _deepl(client, text=[text]).json()["translations"][0]["text"]
    joined = _deepl(client, text=[text], split_sentences="nonewlines").json()["translations"][0]["text"]
    assert default == "EN<Une phrase>\nEN<sur deux lignes.> EN<Puis une autre.>"
    assert joined == "EN<Une phrase\nsur deux lignes.> EN<Puis une autre.>"


def test_deepl_html_with_ignore_tags(client: TestClient) -> None:
    response = _deepl(client, text=["<p>Bonjour <x>Le Monde</x></p>"], tag_handling="html", ignore_tags=["x"])
    assert response.json()["translations"][0]["text"] == "<p>EN&lt;Bonjour&gt; <x>Le Monde</x></p>"


def test_deepl_auto_detection_refuses_other_languages(client: TestClient) -> None:
    response = _deepl(client, text=[ENGLISH])
    assert response.status_code == 400 and "not French" in response.json()["message"]
    assert _deepl(client, text=[ENGLISH], source_lang="FR").status_code == 200  # the caller said French: trusted


@pytest.mark.parametrize(
    ("fields", "status", "fragment"),
    [
        ({"text": ["Hallo"], "target_lang": "DE"}, 400, "Value for 'target_lang' not supported"),
        ({"text": ["Hallo"], "target_lang": ""}, 400, "Parameter 'target_lang' not specified"),
        ({"text": ["Hallo"], "source_lang": "DE"}, 400, "Value for 'source_lang' not supported"),
        ({}, 400, "Parameter 'text' not specified"),
        ({"text": ["Un."], "split_sentences": "2"}, 400, "split_sentences"),
        ({"text": ["Un."], "preserve_formatting": "maybe"}, 400, "preserve_formatting"),
        ({"text": ["Un."], "tag_handling": "xml"}, 400, "handles html only"),
        ({"text": ["Un."], "formality": "more"}, 400, "'formality' is not supported"),
        ({"text": ["Un."], "glossary_id": "g1"}, 400, "Glossary 'g1' not found"),
        ({"text": ["x" * 2_001]}, 413, "the limit is 2000"),
    ],
)
def test_deepl_refusals_use_its_error_shape(
    client: TestClient, fields: dict[str, object], status: int, fragment: str
) -> None:
    response = client.post("/v2/translate", json={"target_lang": "EN-GB", **fields}, headers=DEEPL)
    assert response.status_code == status
    assert set(response.json()) == {"message"} and fragment in response.json()["message"]


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "DeepL-Auth-Key wrong"}, {"Authorization": f"Bearer-ish {KEY}"}]
)
def test_deepl_bad_or_missing_key_is_403(client: TestClient, headers: dict[str, str]) -> None:
    for response in (_deepl(client, headers=headers, text=["Un."]), client.get("/v2/usage", headers=headers)):
        assert response.status_code == 403 and "message" in response.json()


def test_deepl_legacy_auth_key_parameter(client: TestClient) -> None:
    response = client.post("/v2/translate", data={"text": "Un.", "target_lang": "EN-US", "auth_key": KEY})
    assert response.status_code == 200


def test_deepl_languages_read_type_from_a_get_body_and_usage_counts(client: TestClient) -> None:
    assert client.get("/v2/languages", headers=DEEPL).json() == [{"language": "FR", "name": "French"}]
    targets = client.request("GET", "/v2/languages", data={"type": "target"}, headers=DEEPL).json()
    assert [t["language"] for t in targets] == ["EN-GB", "EN-US"]
    assert client.get("/v2/languages", params={"type": "glossary"}, headers=DEEPL).status_code == 400
    assert client.get("/v2/usage", headers=DEEPL).json()["character_count"] == 0
    _deepl(client, text=["Bonjour.", "Salut."])
    usage = client.get("/v2/usage", headers=DEEPL).json()
    assert (
        usage["character_count"] == len("Bonjour.") + len("Salut.")
        and usage["character_limit"] > usage["character_count"]
    )


def test_no_keys_configured_means_any_key_works(fake_engine: FakeEngine) -> None:
    with TestClient(create_app(Settings(), engine=fake_engine)) as open_client:
        assert (
            _deepl(open_client, headers={"Authorization": "DeepL-Auth-Key anything"}, text=["Un."]).status_code == 200
        )
        assert open_client.post("/translate", data={"q": "Un.", "source": "fr", "target": "en"}).status_code == 200


def test_both_shapes_answer_503_in_their_shape_before_the_model_is_ready(fake_engine: FakeEngine) -> None:
    client = TestClient(create_app(Settings(), engine=fake_engine))  # no `with`: the lifespan never ran
    lt = client.post("/translate", data={"q": "Un.", "source": "fr", "target": "en"})
    deepl = client.post("/v2/translate", data={"text": "Un.", "target_lang": "EN-US"})
    assert (lt.status_code, deepl.status_code) == (503, 503)
    assert "error" in lt.json() and "message" in deepl.json() and lt.headers["retry-after"] == "5"


# --- both: items per request, work off the event loop ------------------------------------------


def test_items_per_request_are_capped_in_each_apis_shape(fake_engine: FakeEngine) -> None:
    settings = Settings(api_keys=KEY, compat_max_items=3, warmup=False)
    with TestClient(create_app(settings, engine=fake_engine)) as client:
        assert _lt(client, q=["Un."] * 3).status_code == 200
        lt = _lt(client, q=["Un."] * 4)
        assert lt.status_code == 400 and lt.json() == {"error": "Invalid request: request (4) exceeds text limit (3)"}
        form = client.post("/v2/translate", data={"text": ["Un."] * 4, "target_lang": "EN"}, headers=DEEPL)
        as_json = client.post("/v2/translate", json={"text": ["Un."] * 4, "target_lang": "EN"}, headers=DEEPL)
        for deepl in (form, as_json):
            assert deepl.status_code == 413 and list(deepl.json()) == ["message"] and "limit is 3" in deepl.text
        assert fake_engine.calls == [["Un."]], "nothing past the cap reached the engine"


def test_parsing_and_detection_run_in_a_worker_thread(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from service.compat import deepl, libretranslate, params

    seen: list[str] = []

    def spy(module: object, name: str) -> None:
        real = getattr(module, name)

        def wrapped(*args: object, **kwargs: object) -> object:
            seen.append(f"{name}:{threading.current_thread().name}")
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapped)

    for module in (libretranslate, deepl):
        spy(module, "parse_item")
        spy(module, "require_french")
    spy(params, "_json_object")
    spy(libretranslate, "default_detector")
    assert _lt(client, q=["Le conseil municipal a adopté un budget."], source="auto").status_code == 200
    assert client.post("/detect", json={"q": "Le conseil a voté.", "api_key": KEY}).status_code == 200
    sent = client.post(
        "/v2/translate", json={"text": ["Le conseil municipal a voté."], "target_lang": "EN"}, headers=DEEPL
    )
    assert sent.status_code == 200
    names = {entry.partition(":")[0] for entry in seen}
    assert names == {"parse_item", "require_french", "_json_object", "default_detector"}, seen
    assert all("AnyIO worker" in entry for entry in seen), seen
