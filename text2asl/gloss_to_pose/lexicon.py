"""Sign lexicons: a folder of .pose files with an `index.csv` in the spoken-to-signed layout.

    path,spoken_language,signed_language,start,end,words,glosses,priority

`start`/`end` are milliseconds into the file (0/0 = the whole file); a lower `priority` is
preferred when several rows sign the same word. The embedded default lexicon is the real ASL
fingerspelling alphabet shipped inside the installed spoken-to-signed wheel.
"""
from __future__ import annotations

import csv
import functools
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from text2asl.errors import Text2ASLError
from text2asl.poses.layout import PoseArray, _embedded_alphabet_dir, read_pose_file

COLUMNS = ("path", "spoken_language", "signed_language", "start", "end", "words", "glosses", "priority")


def gloss_key(text: str) -> str:
    """Normalised lookup key: upper case, '-'/'_' as spaces, no other punctuation (THANK-YOU == thank you)."""
    text = re.sub(r"[-_]+", " ", text.upper())
    return " ".join(re.sub(r"[^A-Z0-9' ]+", "", text).split())


@dataclass(frozen=True)
class LexiconEntry:
    """One recorded sign: a span of a .pose file, the words and gloss it signs."""

    path: Path
    words: str
    gloss: str
    start_ms: float
    end_ms: float
    priority: int
    row: int  # 1-based data row in index.csv (the header is row 0), for error messages
    lexicon: str


class Lexicon:
    """A lexicon folder, indexed by gloss, by words and by the words' lemmas.

    Rows for other signed languages are ignored (the embedded lexicon holds several); every row's
    file must exist (checked when the lexicon is opened, so a bad lexicon fails before any work).
    Poses are read lazily and cached, so a long text re-uses each sign's parsed pose.
    """

    def __init__(self, path: str | Path, name: str | None = None, signed_language: str = "ase", cache_size: int = 256):
        self.path = Path(path)
        self.name = name or self.path.name
        index = self.path / "index.csv"
        if not self.path.exists():
            raise Text2ASLError(f"lexicon folder {self.path} does not exist")
        if not index.is_file():
            raise Text2ASLError(f"lexicon folder {self.path} has no index.csv (columns: {','.join(COLUMNS)})")
        self.entries: list[LexiconEntry] = []
        with open(index, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in ("path", "words", "glosses") if c not in (reader.fieldnames or [])]
            if missing:
                raise Text2ASLError(f"{index} lacks the column{'s' * (len(missing) > 1)} {', '.join(missing)}; expected {','.join(COLUMNS)}")
            for row_no, row in enumerate(reader, start=1):
                lang = (row.get("signed_language") or signed_language).strip()
                if lang != signed_language:
                    continue
                file = self.path / (row["path"] or "").strip()
                if not row["path"] or not file.is_file():
                    raise Text2ASLError(f"{index} row {row_no} names {row['path'] or '(empty path)'}, which does not exist in {self.path}")
                try:
                    start, end = float(row.get("start") or 0), float(row.get("end") or 0)
                    priority = int(float(row.get("priority") or 0))
                except ValueError:
                    raise Text2ASLError(f"{index} row {row_no} has a non-numeric start, end or priority") from None
                words = (row["words"] or "").strip()
                gloss = (row["glosses"] or "").strip() or words
                if not gloss:
                    raise Text2ASLError(f"{index} row {row_no} has neither words nor glosses")
                self.entries.append(LexiconEntry(file, words, gloss, start, end, priority, row_no, self.name))
        self.entries.sort(key=lambda e: e.priority)  # stable: file order breaks ties
        self._by_key: dict[str, list[LexiconEntry]] = {}
        for e in self.entries:
            keys = {gloss_key(e.gloss), gloss_key(e.words)}
            keys |= {gloss_key(lemma_phrase(k)) for k in keys if k}
            for k in keys - {""}:
                self._by_key.setdefault(k, []).append(e)
        self._cache: OrderedDict[LexiconEntry, PoseArray] = OrderedDict()
        self._cache_size = cache_size

    @classmethod
    def embedded(cls) -> "Lexicon":
        """The ASL fingerspelling alphabet (26 letters, real recordings) inside the installed spoken-to-signed wheel."""
        return _embedded()

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"Lexicon({str(self.path)!r}, {len(self)} signs)"

    @property
    def max_words(self) -> int:
        """Longest entry in words (for multi-word matching such as THANK YOU)."""
        return max((len(k.split()) for k in self._by_key), default=1)

    def find(self, key: str) -> list[LexiconEntry]:
        """Entries whose gloss, words or lemmatised words match `key` (any case), best first."""
        k = gloss_key(key)
        return self._by_key.get(k) or self._by_key.get(gloss_key(lemma_phrase(k)), [])

    def load(self, entry: LexiconEntry) -> PoseArray:
        """The entry's pose in the canonical layout, cut to its start/end span; cached (LRU)."""
        hit = self._cache.get(entry)
        if hit is not None:
            self._cache.move_to_end(entry)
            return hit
        try:
            arr = read_pose_file(entry.path)
        except Text2ASLError as exc:
            raise Text2ASLError(f"{self.path / 'index.csv'} row {entry.row}: {exc}") from None
        if entry.end_ms > 0 or entry.start_ms > 0:
            a = int(np.floor(entry.start_ms / 1000 * arr.fps))
            b = int(np.ceil(entry.end_ms / 1000 * arr.fps)) if entry.end_ms > 0 else len(arr)
            if b > a:  # spans past the end (common: end is the clip length rounded up) keep what exists
                arr = arr.slice(a, min(b, len(arr)))
        if len(arr) == 0:
            raise Text2ASLError(f"{self.path / 'index.csv'} row {entry.row}: span {entry.start_ms}-{entry.end_ms} ms of {entry.path.name} holds no frames")
        self._cache[entry] = arr
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return arr


@functools.lru_cache(maxsize=1)
def _embedded() -> Lexicon:
    return Lexicon(_embedded_alphabet_dir(), name="asl-alphabet (spoken-to-signed)")


def lemma_phrase(text: str) -> str:
    """Lemmatise each word (books -> book, liked -> like) with lemminflect's bundled tables."""
    from text2asl.text_to_gloss.lemmas import lemma

    return " ".join(lemma(w.lower()) for w in text.split())
