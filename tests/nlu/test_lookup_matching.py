"""Lookup matching without Rasa: attached prefixes, inflection, spelling variants, phrases."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nlu.components.lookup_matching import LookupMatcher, word_forms
from nlu.normalize import normalize_geez, normalize_text

TABLES = {
    "hospital": ["مستشفى", "ሆስፒታል", "ziekenhuis"],
    "bailiff": ["deurwaarder", "محضر قضائي"],
    "tax": ["belasting", "IND"],
}


def tables_per_word(text: str) -> list[set[str]]:
    return LookupMatcher(TABLES).matches(text.split())


def test_arabic_prefixes_and_spelling_variants_still_match() -> None:
    # ب + ال + مستشفى written with yeh instead of alef maqsura
    assert tables_per_word("انا بالمستشفي هلق") == [set(), {"hospital"}, set()]


def test_geez_prefix_and_inflection_match() -> None:
    assert tables_per_word("ናብ ብሆስፒታል ከይደ") == [set(), {"hospital"}, set()]


def test_latin_entries_match_word_beginnings_case_insensitively() -> None:
    assert tables_per_word("Ziekenhuisopname morgen") == [{"hospital"}, set()]
    assert tables_per_word("brief van de Belastingdienst") == [set(), set(), set(), {"tax"}]


def test_short_entries_match_whole_words_only() -> None:
    # "IND" is three letters: it must not match inside "individueel" or "Indonesië".
    assert tables_per_word("individueel Indonesië") == [set(), set()]
    assert tables_per_word("brief van IND") == [set(), set(), {"tax"}]


def test_phrases_need_all_their_words_in_order() -> None:
    assert tables_per_word("جاني محضر قضائي") == [set(), {"bailiff"}, {"bailiff"}]
    assert tables_per_word("قضائي محضر") == [set(), set()]


def test_the_folded_word_is_always_one_of_its_forms() -> None:
    for word in ("بالمستشفى", "ብሆስፒታል", "Deurwaarder"):
        assert normalize_text(word).lower() in word_forms(word)


@given(st.text(alphabet=st.characters(min_codepoint=0x1200, max_codepoint=0x137F)))
def test_geez_normalisation_is_idempotent(text: str) -> None:
    once = normalize_geez(text)
    assert normalize_geez(once) == once
    assert len(once) == len(text)


def test_geez_homophones_get_one_spelling() -> None:
    # ሠ-row as ሰ-row and ፀ-row as ጸ-row, in every vowel order.
    assert normalize_geez("ሠላም") == "ሰላም"
    assert normalize_geez("ፀሓይ") == normalize_geez("ጸሓይ") == "ጸሓይ"
    assert normalize_geez("ሰላም ጸሓይ") == "ሰላም ጸሓይ"
