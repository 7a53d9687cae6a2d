"""Arabic normalisation: the pure function, and the Rasa component that applies it in the model."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlu.normalize import normalize_arabic
from nlu.service import RasaServer


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("أحمد", "احمد"),  # alef with hamza above
        ("إقامة", "اقامه"),  # alef with hamza below, taa marbuta
        ("آخر", "اخر"),  # alef with madda
        ("ٱلله", "الله"),  # alef wasla
        ("مسؤول", "مسوول"),  # waw with hamza
        ("مسئول", "مسيول"),  # yeh with hamza
        ("مستشفى", "مستشفي"),  # alef maqsura
        ("مدرسة", "مدرسه"),  # taa marbuta
        ("مُسْتَشْفَى", "مستشفي"),  # tashkeel
        ("شُكْراً", "شكرا"),  # tanween and sukun
        ("الطَّبِيب", "الطبيب"),  # shadda
        ("هـــلا", "هلا"),  # tatweel
        ("یکی", "يكي"),  # Persian yeh and kaf
        ("١٥ الشهر", "15 الشهر"),  # Arabic-Indic digits
        ("۲۰۲۴", "2024"),  # Persian digits
    ],
)
def test_variants_get_one_spelling(written: str, normalised: str) -> None:
    assert normalize_arabic(written) == normalised


@pytest.mark.parametrize(
    "variants",
    [
        ["الإقامة", "الاقامة", "الاقامه", "الإقَامَة"],
        ["مستشفى", "مستشفي", "مُسْتَشْفَى"],
        ["مسؤول", "مسوول"],
        ["فاتورة", "فاتوره", "فاتـورة"],
    ],
)
def test_spelling_variants_of_a_word_are_equal(variants: list[str]) -> None:
    assert len({normalize_arabic(word) for word in variants}) == 1


@pytest.mark.parametrize(
    "text",
    [
        "Ik heb een brief van de Belastingdienst gekregen",
        "ካብ ጀመንተ ደብዳበ መጺኡኒ",
        "wslatni risale mn el IND, shu ya3ni?",
        "ء ا ب ت ه و ي",  # already normal Arabic letters stay as they are
    ],
)
def test_other_text_is_unchanged(text: str) -> None:
    assert normalize_arabic(text) == text


@given(st.text())
def test_normalising_twice_changes_nothing_more(text: str) -> None:
    once = normalize_arabic(text)
    assert normalize_arabic(once) == once


@given(st.text(alphabet=st.characters(codec="ascii")))
def test_ascii_is_never_touched(text: str) -> None:
    assert normalize_arabic(text) == text


def parse(server: RasaServer, text: str) -> dict[str, object]:
    response = httpx.post(f"{server.url}/model/parse", json={"text": text}, timeout=30)
    response.raise_for_status()
    body: dict[str, object] = response.json()
    return body


@pytest.mark.rasa
@pytest.mark.parametrize(
    "variants",
    [
        ["أريد موعداً مع الطبيب", "اريد موعدا مع الطبيب", "أُرِيدُ مَوْعِداً مَعَ الطَّبِيبِ"],
        ["وصلتني رسالة من الإقامة", "وصلتنى رساله من الاقامه", "وصـــلتني رسالة من الإقامة"],
        ["عندي فاتورة ٣٠٠ يورو", "عندي فاتوره 300 يورو"],
    ],
)
def test_rasa_classifies_spelling_variants_identically(
    rasa_server: RasaServer, variants: list[str]
) -> None:
    """The component runs inside the trained model: variants get the very same ranking."""
    rankings = [parse(rasa_server, text)["intent_ranking"] for text in variants]
    assert all(ranking == rankings[0] for ranking in rankings[1:])


@pytest.mark.rasa
def test_rasa_reports_entities_in_the_text_as_written(rasa_server: RasaServer) -> None:
    """Normalisation changes what the classifier sees, never the text or entity offsets."""
    text = "وَصَلَتْنِي رِسَالَة من Belastingdienst"
    body = parse(rasa_server, text)
    assert body["text"] == text
    entities = body["entities"]
    assert isinstance(entities, list) and entities
    assert all(text[entity["start"] : entity["end"]] for entity in entities)
    assert "Belastingdienst" in {text[entity["start"] : entity["end"]] for entity in entities}
