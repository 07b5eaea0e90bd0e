"""English -> ASL gloss by offline rules: drop what ASL does not sign, reorder what ASL orders differently.

Rules, in the order they apply to each sentence (each hit is recorded, so a notebook can show
which rules fired):
  contraction      don't -> do not, I'm -> I am, Sam's -> Sam (possessive dropped)
  article          a, an, the are not signed
  copula BE        am/is/are/was/were/be/been/being are not signed
  do-support       auxiliary do/does/did (before NOT, or opening a question) is not signed
  TO               infinitival and directional to are not signed (want to eat -> WANT EAT)
  AND              the conjunction and is not signed between clauses
  pronoun          I/me -> ME, my -> MY, him -> HE ... (one gloss per person); object her -> SHE
                   (a point), possessive her -> HER (a flat palm): her is possessive before a noun
  name             proper names and acronyms are fingerspelled: Sam -> fs-SAM
  number           digits become number signs: 3 -> THREE, 25 -> TWO FIVE (digit by digit above 20)
  lemma            inflections are dropped: liked -> LIKE, books -> BOOK
  time first       time expressions open the sentence: I eat tomorrow -> TOMORROW ME EAT
  WH last          WH-words close WH-questions: What is your name? -> YOUR NAME WHAT
  skipped          emoji and non-Latin words are skipped with a warning
Negation (NOT, NEVER, NO) and modals (CAN, WILL, MUST, SHOULD ...) are kept in place.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from text2asl.text_to_gloss.lemmas import has_verb_reading, is_known_word, lemma, readings

ARTICLES = {"a", "an", "the"}
BE_FORMS = {"am", "is", "are", "was", "were", "be", "been", "being"}
DO_FORMS = {"do", "does", "did"}
NEGATIONS = {"not": "NOT", "never": "NEVER", "no": "NO", "nothing": "NOTHING", "nobody": "NOBODY", "none": "NONE"}
MODALS = {"can", "could", "will", "would", "shall", "should", "must", "might", "may"}
PRONOUNS = {
    "i": "ME", "me": "ME", "myself": "MYSELF", "my": "MY", "mine": "MINE",
    "you": "YOU", "your": "YOUR", "yours": "YOUR", "yourself": "YOURSELF",
    "he": "HE", "him": "HE", "his": "HIS", "himself": "HIMSELF",
    "she": "SHE", "her": "HER", "hers": "HER", "herself": "HERSELF",
    "it": "IT", "its": "ITS", "itself": "ITSELF",
    "we": "WE", "us": "WE", "our": "OUR", "ours": "OUR", "ourselves": "OURSELVES",
    "they": "THEY", "them": "THEY", "their": "THEIR", "theirs": "THEIR", "themselves": "THEMSELVES",
}
SUBJECT_STARTERS = set(PRONOUNS) | ARTICLES | {"this", "that", "these", "those", "there"}
WH_WORDS = {"what", "where", "when", "who", "whom", "whose", "why", "how", "which"}
TIME_WORDS = {
    "yesterday", "today", "tomorrow", "tonight", "now", "later", "soon", "recently", "before",
    "afterwards", "already", "morning", "afternoon", "evening", "night", "weekend",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}
TIME_UNITS = {"day", "week", "month", "year", "night", "morning", "afternoon", "evening", "weekend", "time",
              "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "summer", "winter"}
TIME_MODIFIERS = {"last": "LAST", "next": "NEXT", "this": "THIS", "every": "EVERY", "each": "EVERY"}
UNITS = ["ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE", "TEN", "ELEVEN",
         "TWELVE", "THIRTEEN", "FOURTEEN", "FIFTEEN", "SIXTEEN", "SEVENTEEN", "EIGHTEEN", "NINETEEN", "TWENTY"]
CONTRACTIONS = {
    "can't": ["can", "not"], "cannot": ["can", "not"], "won't": ["will", "not"], "shan't": ["shall", "not"],
    "ain't": ["is", "not"], "i'm": ["i", "am"], "let's": ["let", "us"],
}
SUFFIXES = {"n't": ["not"], "'re": ["are"], "'ve": ["have"], "'ll": ["will"], "'d": ["would"], "'m": ["am"]}
# Words with a noun or adjective reading that still do not open a noun phrase after "her".
NOT_NOUN_STARTERS = {"that", "this", "these", "those", "so", "very", "too", "there", "here", "about", "up",
                     "back", "well", "again", "now", "then", "much", "more", "out", "off", "down", "all"}
IS_HOSTS = {"he", "she", "it", "that", "what", "where", "who", "there", "here", "how", "when", "why", "this"}

_TOKEN = re.compile(
    r"(?P<word>[A-Za-z]+(?:'[A-Za-z]+)*)|(?P<num>\d+(?:[.,:]\d+)*)|(?P<end>[.!?]+)|(?P<punct>[,;:\"()\[\]{}\-–—/&*#@%+=<>|~^`$])|(?P<other>[^\sA-Za-z\d.!?,;:\"()\[\]{}\-–—/&*#@%+=<>|~^`$']+)|(?P<apos>')"
)


@dataclass
class Token:
    """One English word on its way to a gloss."""

    text: str  # as written (accents stripped)
    word: str  # lower case
    gloss: str = ""
    kind: str = "word"  # word | name | number | time | wh | neg | modal | pronoun
    capitalised: bool = False
    sentence_initial: bool = False
    index: int = 0  # position in its sentence as written (contraction parts share their word's)
    start: int = 0  # character span of the word in `GlossResult.text`
    end: int = 0


@dataclass
class RuleHit:
    rule: str
    detail: str


@dataclass
class GlossResult:
    """Glosses for a text, the rules that produced them, and warnings about skipped input."""

    glosses: list[str]
    sources: list[str]  # the English word(s) each gloss came from
    rules: list[RuleHit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sentences: list[list[str]] = field(default_factory=list)
    # Where the signing pauses: gloss index -> "comma" | "sentence" | "question" (a yes/no question,
    # whose last sign is held), the break falling after that gloss. `gloss_to_pose.rhythm` times them.
    boundaries: dict[int, str] = field(default_factory=dict)
    text: str = ""  # the text as glossed (accents stripped): what `source_spans` index
    source_spans: list[tuple[int, int]] = field(default_factory=list)  # each gloss's English word in `text`

    def __str__(self) -> str:
        return " ".join(self.glosses)

    def rules_fired(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for hit in self.rules:
            counts[hit.rule] = counts.get(hit.rule, 0) + 1
        return counts


def _ascii_letters(text: str) -> str:
    """Strip accents (café -> cafe) but keep non-Latin scripts as they are (they are skipped later)."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def number_glosses(digits: str) -> list[str]:
    """'3' -> [THREE]; '20' -> [TWENTY]; '25' -> [TWO, FIVE]; '3.5' -> [THREE, POINT, FIVE]."""
    out: list[str] = []
    for i, part in enumerate(re.split(r"[.,:]", digits)):
        if i:
            out.append("POINT" if "." in digits else "")
        n = int(part) if part else 0
        if part and n <= 20 and not (len(part) > 1 and part[0] == "0"):
            out.append(UNITS[n])
        else:
            out.extend(UNITS[int(d)] for d in part)
    return [g for g in out if g]


def tokenize(text: str) -> tuple[list[list[Token]], list[str], list[bool]]:
    """Split into sentences of word/number tokens; returns (sentences, skipped strings, is_question per sentence).

    Offsets (`Token.start`, `end`) index `_ascii_letters(text)`; see `clause_breaks` for commas.
    """
    return _tokenize(_ascii_letters(text))[:3]


def sentence_ends(text: str) -> list[int]:
    """Character offsets in `text` (as glossed: `GlossResult.text`) just past each sentence's end mark."""
    return [m.end() for m in _TOKEN.finditer(text) if m.lastgroup == "end"]


def _tokenize(text: str) -> tuple[list[list[Token]], list[str], list[bool], list[set[int]]]:
    """`tokenize` on already normalised text, plus per sentence the token indices a comma (or ; :) follows."""
    sentences: list[list[Token]] = [[]]
    questions: list[bool] = [False]
    commas: list[set[int]] = [set()]
    skipped: list[str] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        tok = m.group()
        current = sentences[-1]
        if kind == "end":
            questions[-1] = "?" in tok
            if current:
                sentences.append([])
                questions.append(False)
                commas.append(set())
        elif kind == "word":
            current.append(Token(tok, tok.lower(), capitalised=tok[0].isupper(), sentence_initial=not current,
                                 index=len(current), start=m.start(), end=m.end()))
        elif kind == "num":
            current.append(Token(tok, tok, kind="number", sentence_initial=not current, index=len(current),
                                 start=m.start(), end=m.end()))
        elif kind == "punct" and tok in ",;:" and current:
            commas[-1].add(len(current) - 1)
        elif kind == "other":
            skipped.append(tok)
    if not sentences[-1]:
        sentences.pop()
        questions.pop()
        commas.pop()
    return sentences, skipped, questions, commas


def _expand(tokens: list[Token], hits: list[RuleHit]) -> list[Token]:
    """Contractions and possessive 's."""
    out: list[Token] = []
    for t in tokens:
        w = t.word
        parts: list[str] | None = CONTRACTIONS.get(w)
        if parts is None:
            for suffix, tail in SUFFIXES.items():
                if w.endswith(suffix) and len(w) > len(suffix):
                    parts = [w[: -len(suffix)]] + tail
                    break
        if parts is None and w.endswith("'s"):
            base = w[:-2]
            parts = [base, "is"] if base in IS_HOSTS else [base]
            if base not in IS_HOSTS:
                hits.append(RuleHit("contraction", f"{t.text} -> {t.text[:-2]} (possessive 's not signed)"))
        if parts is None:
            if "'" in w:  # o'clock, rock'n'roll: sign the letters around the apostrophe as one word
                t.word = w.replace("'", "")
                t.text = t.text.replace("'", "")
            out.append(t)
            continue
        if len(parts) > 1:
            hits.append(RuleHit("contraction", f"{t.text} -> {' '.join(parts)}"))
        for i, p in enumerate(parts):
            text = t.text[: len(p)] if i == 0 else p
            out.append(Token(text, p, capitalised=t.capitalised and i == 0, sentence_initial=t.sentence_initial and i == 0,
                             index=t.index, start=t.start, end=t.end))
    return out


def _is_name(t: Token) -> bool:
    if t.kind != "word" or t.word in PRONOUNS or len(t.word) == 0:
        return False
    if t.text.isupper() and len(t.text) >= 2:  # acronyms: ASL, NASA
        return True
    if not t.capitalised:
        return False
    if not t.sentence_initial:
        return True
    return not is_known_word(t.word)


def _opens_noun_phrase(t: Token | None) -> bool:
    """Whether `t` can start the noun phrase a possessive determiner modifies (her -> mother, new, Tesla)."""
    if t is None or t.kind != "word" or t.word in NOT_NOUN_STARTERS | set(PRONOUNS) | ARTICLES | WH_WORDS:
        return False
    if t.word in NEGATIONS or t.word in MODALS or t.word in BE_FORMS:
        return False
    return t.capitalised or bool({"NOUN", "ADJ"} & set(readings(t.word)))


def _time_phrases(tokens: list[Token], hits: list[RuleHit]) -> list[Token]:
    """Mark time expressions (tomorrow, last week, in the morning, every day) as kind 'time'."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if t.word in TIME_MODIFIERS and nxt is not None and nxt.word in TIME_UNITS:
            t.kind = nxt.kind = "time"
            t.gloss, nxt.gloss = TIME_MODIFIERS[t.word], lemma(nxt.word).upper()
            out += [t, nxt]
            i += 2
            continue
        if t.word in ("in", "at", "on") and nxt is not None:
            j = i + 1 + (tokens[i + 1].word == "the" if i + 1 < len(tokens) else 0)
            if j < len(tokens) and tokens[j].word in TIME_UNITS and tokens[j].word not in ("time",):
                tokens[j].kind = "time"
                tokens[j].gloss = tokens[j].word.upper()
                hits.append(RuleHit("preposition of time", f"{' '.join(x.text for x in tokens[i:j])} (not signed)"))
                out.append(tokens[j])
                i = j + 1
                continue
        if t.word in TIME_WORDS and t.kind == "word":
            t.kind = "time"
            t.gloss = t.word.upper()
        out.append(t)
        i += 1
    return out


def _sentence(tokens: list[Token], question: bool, hits: list[RuleHit]) -> list[Token]:
    tokens = _time_phrases(_expand(tokens, hits), hits)
    kept: list[Token] = []
    seen_be = False  # inside a predicate after BE: "was hungry and tired" -> TIRED, not TIRE
    for i, t in enumerate(tokens):
        w = t.word
        prev = tokens[i - 1].word if i else ""
        seen_be = seen_be or prev in BE_FORMS
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if t.kind in ("time",):
            kept.append(t)
            continue
        if t.kind == "number":
            t.gloss = " ".join(number_glosses(t.text))
            hits.append(RuleHit("number", f"{t.text} -> {t.gloss}"))
            kept.append(t)
            continue
        if w in ARTICLES:
            hits.append(RuleHit("article", t.text))
            continue
        if w in BE_FORMS:
            hits.append(RuleHit("copula BE", t.text))
            continue
        if w in DO_FORMS and nxt is not None and (nxt.word == "not" or (question and (i == 0 or prev in WH_WORDS) and nxt.word in SUBJECT_STARTERS | {"not"})):
            hits.append(RuleHit("do-support", f"{t.text} {nxt.text}"))
            continue
        if w == "to" and nxt is not None:
            hits.append(RuleHit("TO", f"to {nxt.text}" + (" (infinitive)" if has_verb_reading(nxt.word) else " (direction)")))
            continue
        if w == "and" and kept:
            hits.append(RuleHit("AND", t.text))
            continue
        if w in ("of",):
            hits.append(RuleHit("preposition OF", f"{t.text} (not signed)"))
            continue
        if w in NEGATIONS:
            t.kind, t.gloss = "neg", NEGATIONS[w]
        elif w in MODALS:
            t.kind, t.gloss = "modal", w.upper()
        elif w in PRONOUNS:
            t.kind, t.gloss = "pronoun", PRONOUNS[w]
            if w == "her" and not _opens_noun_phrase(nxt):  # object her points like SHE; only possessive her shows the palm
                t.gloss = "SHE"
            if t.gloss != w.upper():
                hits.append(RuleHit("pronoun", f"{t.text} -> {t.gloss}"))
        elif w in WH_WORDS:
            t.kind, t.gloss = "wh", w.upper() if w not in ("whom", "whose") else "WHO"
        elif _is_name(t):
            t.kind, t.gloss = "name", "fs-" + t.word.upper()
            hits.append(RuleHit("name", f"{t.text} -> {t.gloss}"))
        else:
            lem = lemma(w, after_be=seen_be)
            t.gloss = lem.upper()
            if lem != w:
                hits.append(RuleHit("lemma", f"{t.text} -> {t.gloss}"))
        kept.append(t)

    times = [t for t in kept if t.kind == "time"]
    if times and kept[0].kind != "time":
        hits.append(RuleHit("time first", " ".join(t.gloss for t in times)))
    rest = [t for t in kept if t.kind != "time"]
    if question and rest and rest[0].kind == "wh" and len(rest) > 1:
        wh = [rest[0]]
        rest = rest[1:]
        hits.append(RuleHit("WH last", wh[0].gloss))
        rest = rest + wh
    return times + rest


def text_to_gloss(text: str) -> GlossResult:
    """Gloss English text sentence by sentence. Empty glosses mean nothing in the text can be signed."""
    hits: list[RuleHit] = []
    text = _ascii_letters(text)
    sentences, skipped, questions, commas = _tokenize(text)
    result = GlossResult([], [], hits, text=text)
    for s in skipped:
        hits.append(RuleHit("skipped", s))
        result.warnings.append(f"skipped {s!r}: not English text (emoji or non-Latin script)")
    for tokens, question, comma_after in zip(sentences, questions, commas):
        glossed = _sentence(tokens, question, hits)
        sentence = []
        for k, t in enumerate(glossed):
            for g in t.gloss.split():
                result.glosses.append(g)
                result.sources.append(t.text)
                result.source_spans.append((t.start, t.end))
                sentence.append(g)
            nxt = glossed[k + 1].index if k + 1 < len(glossed) else None
            # A comma between this word and the next one signed (in the English order): pause here.
            if sentence and nxt is not None and any(t.index <= c < nxt for c in comma_after):
                result.boundaries[len(result.glosses) - 1] = "comma"
        if sentence:
            result.sentences.append(sentence)
            yes_no = question and not any(t.kind == "wh" for t in glossed)
            result.boundaries[len(result.glosses) - 1] = "question" if yes_no else "sentence"
    return result


def parse_glosses(text: str) -> GlossResult:
    """Glosses given directly (`--glosses "HELLO fs-SAM"`): whitespace separated; fs-WORD is fingerspelled.

    Punctuation after a gloss pauses there as in text ("HELLO, fs-SAM. YOU TIRED?"); without any,
    the glosses run on.
    """
    glosses: list[str] = []
    boundaries: dict[int, str] = {}
    sentence_start = 0
    for g in text.split():
        mark = g.rstrip("'")[-1:]
        if g.lower().startswith("fs-"):
            letters = re.sub(r"[^A-Za-z]", "", g[3:])
            if letters:
                glosses.append("fs-" + letters.upper())
        else:
            g = re.sub(r"[^A-Za-z0-9'\-]", "", g).upper()
            if g:
                glosses.append(g)
        if not glosses or mark not in ",;:.!?":
            continue
        if mark in ",;:":
            boundaries.setdefault(len(glosses) - 1, "comma")
            continue
        wh = any(x.lower() in WH_WORDS for x in glosses[sentence_start:])
        boundaries[len(glosses) - 1] = "question" if mark == "?" and not wh else "sentence"
        sentence_start = len(glosses)
    return GlossResult(glosses, list(glosses), sentences=[glosses] if glosses else [], boundaries=boundaries)
