"""English lemmas from lemminflect's bundled tables (no downloads): liked -> like, books -> book."""
from __future__ import annotations

import functools

# Part-of-speech preference when a word has several readings: without a tagger, a verb reading
# is the most useful for glossing (saw -> SEE, going -> GO), then noun, adjective, adverb.
_POS_ORDER = ("VERB", "NOUN", "ADJ", "ADV", "AUX")


@functools.lru_cache(maxsize=65536)
def lemma(word: str, after_be: bool = False) -> str:
    """Lower-case lemma of one lower-case word; the word itself when lemminflect does not know it.

    After a form of BE an adjective reading wins (I am tired -> TIRED, not TIRE).
    """
    from lemminflect import getAllLemmas

    lemmas = getAllLemmas(word)
    if after_be and not word.endswith("ing") and word in lemmas.get("ADJ", ()):
        return word
    for pos in _POS_ORDER:
        if pos in lemmas and lemmas[pos]:
            return lemmas[pos][0]
    return word


@functools.lru_cache(maxsize=65536)
def is_known_word(word: str) -> bool:
    """Whether lemminflect knows `word` (lower case) as an English word form."""
    from lemminflect import getAllLemmas

    return bool(getAllLemmas(word))


def has_verb_reading(word: str) -> bool:
    from lemminflect import getAllLemmas

    return "VERB" in getAllLemmas(word)
