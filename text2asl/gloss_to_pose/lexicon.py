"""Sign lexicons: a folder of .pose files with an `index.csv` in the spoken-to-signed layout.

    path,spoken_language,signed_language,start,end,words,glosses,priority

`start`/`end` are milliseconds into the file (0/0 = the whole file); a lower `priority` is
preferred when several rows sign the same word. A row's file is a `.pose`, or a packed sign
(`.npz`, see `packed`).

Two lexicons are embedded: the 100 word, number, month and letter signs of the MIT-licensed
asl-app lexicon, packed inside this package (`asl_app/`, made by `text2asl pack-lexicon`), and
the real ASL fingerspelling alphabet inside the installed spoken-to-signed wheel.
`default_lexicons` puts them in the order every command uses.
"""
from __future__ import annotations

import csv
import functools
import io
import math
import re
import shutil
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from text2asl.errors import Text2ASLError
from text2asl.gloss_to_pose.packed import SUFFIX as PACKED_SUFFIX
from text2asl.gloss_to_pose.packed import pack_sign, read_packed_sign
from text2asl.io import atomic_path, contained_path, make_folder
from text2asl.poses.layout import MAX_SIGN_SECONDS, PoseArray, _embedded_alphabet_dir, read_pose_file

EMBEDDED_WORDS_DIR = Path(__file__).resolve().parent / "asl_app"
EMBEDDED_WORDS_NAME = "asl-app, embedded"
EMBEDDED_ALPHABET_NAME = "asl-alphabet (spoken-to-signed)"

# Files copied beside a packed lexicon when the source has them: the licence travels with the data.
NOTICE_FILES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "NOTICE", "NOTICE.txt")
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
        self.entries: list[LexiconEntry] = parse_index(index, self.name, signed_language)
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

    @classmethod
    def embedded_words(cls) -> "Lexicon":
        """The asl-app word signs (family, feelings, time, places, questions, numbers, months; MIT) packed in this package."""
        return _embedded_words()

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
            arr = read_packed_sign(entry.path) if entry.path.suffix == PACKED_SUFFIX else read_pose_file(entry.path)
        except Text2ASLError as exc:
            raise Text2ASLError(f"{self.path / 'index.csv'} row {entry.row}: {exc}") from None
        if entry.end_ms > 0 or entry.start_ms > 0:
            a = int(np.floor(entry.start_ms / 1000 * arr.fps))
            b = int(np.ceil(entry.end_ms / 1000 * arr.fps)) if entry.end_ms > 0 else len(arr)
            if a >= len(arr):
                raise Text2ASLError(f"{self.path / 'index.csv'} row {entry.row} starts at {entry.start_ms:g} ms, past the end of "
                                    f"{entry.path.name} ({arr.duration * 1000:.0f} ms long); fix start/end")
            # A span past the end (common: end is the clip length rounded up) keeps what exists.
            arr = arr.slice(a, min(b, len(arr)))
        if arr.duration > MAX_SIGN_SECONDS:
            raise Text2ASLError(f"{self.path / 'index.csv'} row {entry.row}: {entry.path.name} lasts {arr.duration:.0f} s "
                                f"({len(arr)} frames at {arr.fps:g} fps), longer than any sign ({MAX_SIGN_SECONDS:g} s at "
                                "most); give the sign's start/end, or cut the recording")
        if len(arr) == 0 or not arr.present().any():
            raise Text2ASLError(f"{self.path / 'index.csv'} row {entry.row}: span {entry.start_ms:g}-{entry.end_ms:g} ms of "
                                f"{entry.path.name} holds no detected point; fix start/end or re-extract the sign")
        self._cache[entry] = arr
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return arr


def read_index_rows(index: Path, required: tuple[str, ...] = ("path", "words", "glosses"),
                    signed_language: str | None = None) -> list[tuple[int, dict[str, str]]]:
    """(row number, row) of an index.csv, header checked; UTF-8 with or without a BOM.

    Row numbers are 1-based data rows (the header is row 0). With `signed_language`, rows that name
    another one are left out before their fields are read (spoken-to-signed's alphabet index holds
    626 rows, 26 of them ASL). Any decoding or CSV problem is a `Text2ASLError` naming the file and row.
    """
    try:
        text = index.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = index.read_bytes()[: exc.start].count(b"\n")
        raise Text2ASLError(f"{index} row {line} is not UTF-8 text (byte {exc.object[exc.start]:#04x}); save the file as UTF-8") from None
    except OSError as exc:
        raise Text2ASLError(f"cannot read {index}: {exc.strerror or exc}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        fields = [f.strip() for f in next(reader, [])]
        missing = [c for c in required if c not in fields]
        if missing:
            raise Text2ASLError(f"{index} lacks the column{'s' * (len(missing) > 1)} {', '.join(missing)}; expected {','.join(COLUMNS)}")
        language = fields.index("signed_language") if signed_language is not None and "signed_language" in fields else None
        rows, n = [], 0
        for values in reader:
            if not values:  # a blank line: not a row (as csv.DictReader counts them)
                continue
            n += 1
            if language is not None and len(values) > language and values[language].strip() not in ("", signed_language):
                continue
            # as csv.DictReader: missing trailing fields are empty, extra ones are dropped
            rows.append((n, {k: v.strip() for k, v in zip(fields, values)} | {k: "" for k in fields[len(values):]}))
        return rows
    except csv.Error as exc:
        raise Text2ASLError(f"{index} row {reader.line_num} is not valid CSV ({exc}); fix the quoting") from None


def parse_index(index: Path, lexicon: str = "", signed_language: str = "ase") -> list[LexiconEntry]:
    """The entries of a lexicon's index.csv for one signed language (rows of others are ignored).

    Every field is checked where it enters: the path must stay inside the lexicon folder and name
    an existing file, start/end must be finite milliseconds with end after start (0/0 = the whole
    file), priority a finite integer. A bad row is a `Text2ASLError` naming the file and row:
    a lexicon with a wrong row is fixed once rather than silently signing less.
    """
    folder = index.parent
    entries = []
    for row_no, row in read_index_rows(index, signed_language=signed_language):
        where = f"{index} row {row_no}"
        file = contained_path(folder, row["path"], where, "lexicon folder")
        if not file.is_file():
            raise Text2ASLError(f"{where} names {row['path']}, which does not exist in {folder}")
        start, end, priority = (_number(row, c, where) for c in ("start", "end", "priority"))
        if end and end <= start:
            raise Text2ASLError(f"{where} ends ({end:g} ms) before it starts ({start:g} ms); fix start/end (0/0 = the whole file)")
        if priority != int(priority):
            raise Text2ASLError(f"{where} has priority {row['priority']!r}; give a whole number (0 = preferred)")
        words = row["words"]
        gloss = row["glosses"] or words
        if not gloss:
            raise Text2ASLError(f"{where} has neither words nor glosses")
        entries.append(LexiconEntry(file, words, gloss, start, end, int(priority), row_no, lexicon))
    return entries


# A day in milliseconds, and far more signs than any lexicon: bounds that keep every field finite.
_LIMITS = {"start": (0, 86_400_000), "end": (0, 86_400_000), "priority": (-1e9, 1e9)}


def _number(row: dict[str, str], column: str, where: str) -> float:
    text = row.get(column) or "0"
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    lo, hi = _LIMITS[column]
    if not math.isfinite(value) or not lo <= value <= hi:
        raise Text2ASLError(f"{where} has {column} {text!r}; give a number from {lo:g} to {hi:g}")
    return value


@functools.lru_cache(maxsize=1)
def _embedded() -> Lexicon:
    return Lexicon(_embedded_alphabet_dir(), name=EMBEDDED_ALPHABET_NAME)


@functools.lru_cache(maxsize=1)
def _embedded_words() -> Lexicon:
    return Lexicon(EMBEDDED_WORDS_DIR, name=EMBEDDED_WORDS_NAME)


def default_lexicons(lexicons=(), words: bool = True) -> list[Lexicon]:
    """The lexicons every command searches, in order: `lexicons` (folders or `Lexicon`s) in front,
    then the embedded asl-app word signs (unless `words` is False), then the embedded alphabet.
    """
    out = [lex if isinstance(lex, Lexicon) else Lexicon(lex) for lex in lexicons]
    if words:
        out.append(Lexicon.embedded_words())
    return out + [Lexicon.embedded()]


def lemma_phrase(text: str) -> str:
    """Lemmatise each word (books -> book, liked -> like) with lemminflect's bundled tables."""
    from text2asl.text_to_gloss.lemmas import lemma

    return " ".join(lemma(w.lower()) for w in text.split())


def pack_lexicon(source: str | Path, output: str | Path, progress: bool = False) -> Path:
    """Pack every row of the lexicon folder `source` into `output` (a new or packed folder); returns `output`.

    Each row becomes `<its file's stem>[-<row>].npz` holding the row's span (start/end are applied,
    so the packed row is 0/0), with the same words, gloss and priority. Licence files beside the
    source index are copied. Every file is written atomically; `index.csv` last, so an interrupted
    pack never leaves an index naming missing signs.
    """
    from tqdm import tqdm

    source, output = Path(source), Path(output)
    lexicon = Lexicon(source)
    if not lexicon.entries:
        raise Text2ASLError(f"lexicon {source} has no ASL rows to pack")
    if output.resolve() == source.resolve():
        raise Text2ASLError(f"the output {output} is the source lexicon; pack into another folder")
    make_folder(output, "packed lexicon folder")
    stems = [e.path.stem for e in lexicon.entries]
    rows = []
    for entry, stem in tqdm(list(zip(lexicon.entries, stems)), desc="pack-lexicon", unit="sign", disable=not progress):
        name = stem + PACKED_SUFFIX if stems.count(stem) == 1 else f"{stem}-{entry.row}{PACKED_SUFFIX}"
        with atomic_path(output / name) as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, **pack_sign(lexicon.load(entry)))
        rows.append({"path": name, "spoken_language": "en", "signed_language": "ase", "start": "0", "end": "0",
                     "words": entry.words, "glosses": entry.gloss, "priority": str(entry.priority)})
    for notice in NOTICE_FILES:
        if (source / notice).is_file():
            with atomic_path(output / notice) as tmp:
                shutil.copyfile(source / notice, tmp)
    with atomic_path(output / "index.csv") as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return output
