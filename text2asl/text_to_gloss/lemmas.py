"""English lemmas from lemminflect's bundled tables (no downloads): liked -> like, books -> book.

The table is lemminflect's own `lemma_lu.csv.gz` (+ its overrides), but read differently: lemminflect
parses all 80,676 rows into nested dicts and tuples (0.45 s, 33 MB), which made the lemma table the
largest thing on the translate path. Here the decompressed file stays one bytes object, searched in
place by binary search over its sorted rows, with no index of them built (~10 ms, nearly all of it
the decompression; 1.8 MB). Results equal `lemminflect.getAllLemmas` for lower-case words (tested
against it).
"""
from __future__ import annotations

import functools
import gzip
import importlib.util
from pathlib import Path


# Part-of-speech preference when a word has several readings: without a tagger, a verb reading
# is the most useful for glossing (saw -> SEE, going -> GO), then noun, adjective, adverb.
_POS_ORDER = ("VERB", "NOUN", "ADJ", "ADV", "AUX")


class LemmaTable:
    """word -> {UPOS: (lemma, ...)} over lemminflect's sorted lookup file."""

    def __init__(self, resources: Path | None = None):
        if resources is None:
            spec = importlib.util.find_spec("lemminflect")
            if spec is None or not spec.submodule_search_locations:
                raise ImportError("lemminflect is not installed: pip install lemminflect==0.2.3")
            resources = Path(list(spec.submodule_search_locations)[0]) / "resources"
        self._blob = gzip.decompress((resources / "lemma_lu.csv.gz").read_bytes())
        if not self._blob.endswith(b"\n"):
            self._blob += b"\n"
        self._overrides: dict[str, dict[str, tuple[str, ...]]] = {}
        for line in (resources / "lemma_overrides.csv").read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                word, upos, lemma_ = line.split(",")
                self._overrides.setdefault(word, {})[upos] = (lemma_,)

    def _line(self, start: int) -> tuple[bytes, int]:
        """The word of the row starting at byte `start`, and where the next row starts."""
        blob = self._blob
        return blob[start : blob.index(b",", start)], blob.index(b"\n", start) + 1

    def get(self, word: str) -> dict[str, tuple[str, ...]]:
        """All readings of a lower-case word, like `lemminflect.getAllLemmas(word)`."""
        key, blob = word.encode(), self._blob
        # Binary search over byte offsets for the first row whose word is >= key: the row around the
        # middle byte is found by looking back for its newline, so no index of the 80,000 rows is built.
        lo, hi = 0, len(blob)  # both row starts
        while lo < hi:
            start = blob.rfind(b"\n", lo, (lo + hi) // 2) + 1 or lo
            row_word, after = self._line(start)
            if row_word < key:
                lo = after
            else:
                hi = start
        out: dict[str, tuple[str, ...]] = {}
        while lo < len(blob):
            row_word, after = self._line(lo)
            if row_word != key:
                break
            _, category, forms = blob[lo : after - 1].decode().split(",")
            upos = "AUX" if category == "modal" else category.upper()
            out[upos] = tuple(forms.lower().split("/"))  # as lemminflect: lemmas take the word's (lower) case
            lo = after
        out.update(self._overrides.get(word, {}))
        return out


@functools.lru_cache(maxsize=1)
def _table() -> LemmaTable:
    return LemmaTable()


@functools.lru_cache(maxsize=65536)
def readings(word: str) -> dict[str, tuple[str, ...]]:
    """{UPOS: lemmas} of a lower-case word (empty when lemminflect does not know it)."""
    return _table().get(word)


@functools.lru_cache(maxsize=65536)
def lemma(word: str, after_be: bool = False) -> str:
    """Lower-case lemma of one lower-case word; the word itself when lemminflect does not know it.

    After a form of BE an adjective reading wins (I am tired -> TIRED, not TIRE).
    """
    lemmas = readings(word)
    if after_be and not word.endswith("ing") and word in lemmas.get("ADJ", ()):
        return word
    for pos in _POS_ORDER:
        if lemmas.get(pos):
            return lemmas[pos][0]
    return word


def is_known_word(word: str) -> bool:
    """Whether lemminflect knows `word` (lower case) as an English word form."""
    return bool(readings(word))


def has_verb_reading(word: str) -> bool:
    return "VERB" in readings(word)
