"""Which words of a message belong to which lookup table, without Rasa.

Arabic and Tigrinya attach prepositions, articles and conjunctions to the word (`بالمستشفى`,
`ብካራ`), and all four languages inflect, so an entry matches the beginning of a word, also once
such a prefix is taken off. Entries shorter than `MIN_PREFIX_LENGTH` letters are too ambiguous
as beginnings and match whole words only. Entries of several words match consecutive words.
Everything is compared after `normalize_text` and lower-casing.

Pure code without Rasa: the Rasa component `lookup_featurizer` and the app's tests both use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from nlu.normalize import normalize_text

# Attached prefixes, longest first: Arabic conjunctions, prepositions and the article (with the
# Levantine `عال` for `على ال`); Tigrinya prepositions and verb prefixes written on the word.
ARABIC_PREFIXES = ("وبال", "وال", "فال", "بال", "كال", "عال", "لل", "ال", "و", "ف", "ب", "ل", "ك")
GEEZ_PREFIXES = ("ን", "ብ", "ዝ", "ዘ", "ክ", "ከ", "ይ", "ት", "ተ")
PREFIXES = ARABIC_PREFIXES + GEEZ_PREFIXES
MIN_PREFIX_LENGTH = {"latin": 4, "other": 3}
# A word keeps at least this many letters after a prefix is taken off.
MIN_STEM_LENGTH = 2


def fold(word: str) -> str:
    return normalize_text(word).lower()


def word_forms(word: str) -> set[str]:
    """The folded word, and the word without one or two attached prefixes."""
    forms = {fold(word)}
    for _ in range(2):
        forms |= {
            form[len(prefix) :]
            for form in forms
            for prefix in PREFIXES
            if form.startswith(prefix) and len(form) - len(prefix) >= MIN_STEM_LENGTH
        }
    return forms


def _min_prefix_length(entry: str) -> int:
    return MIN_PREFIX_LENGTH["latin" if entry.isascii() else "other"]


def word_matches(forms: set[str], entry: str) -> bool:
    """Whether a word (given as its `word_forms`) matches one folded entry word."""
    if len(entry) < _min_prefix_length(entry):
        return entry in forms
    return any(form.startswith(entry) for form in forms)


class LookupMatcher:
    """Matches the words of a message against named lookup tables."""

    def __init__(self, tables: Mapping[str, Iterable[str]]) -> None:
        self.names = sorted(tables)
        # Entries indexed by their folded first word, so a word only meets entries it can start.
        self._by_first_word: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for name in self.names:
            for entry in {tuple(fold(entry).split()) for entry in tables[name] if entry.strip()}:
                self._by_first_word.setdefault(entry[0], []).append((name, entry[1:]))

    def _entries_starting(self, forms: set[str]) -> set[tuple[str, tuple[str, ...]]]:
        found: set[tuple[str, tuple[str, ...]]] = set()
        for form in forms:
            for length in range(1, len(form) + 1):
                beginning = form[:length]
                if length < len(form) and length < _min_prefix_length(beginning):
                    continue
                found.update(self._by_first_word.get(beginning, ()))
        return found

    def matches(self, words: Sequence[str]) -> list[set[str]]:
        """For each word, the names of the tables it is part of."""
        forms = [word_forms(word) for word in words]
        hits: list[set[str]] = [set() for _ in words]
        for start, first in enumerate(forms):
            for name, rest in self._entries_starting(first):
                following = forms[start + 1 : start + 1 + len(rest)]
                end = start + 1 + len(rest)
                if len(following) == len(rest) and all(
                    word_matches(form, part) for form, part in zip(following, rest, strict=True)
                ):
                    for position in range(start, end):
                        hits[position].add(name)
        return hits
