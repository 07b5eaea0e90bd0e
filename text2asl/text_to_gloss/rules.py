"""English -> ASL gloss by offline rules: drop what ASL does not sign, reorder what ASL orders differently.

Rules, in the order they apply to each sentence (each hit is recorded, so a notebook can show
which rules fired):
  contraction      don't -> do not, I'm -> I am, Sam's -> Sam (possessive dropped)
  article          a, an, the are not signed
  copula BE        am/is/are/was/were/be/been/being are not signed
  perfect HAVE     auxiliary have/has/had before a past participle or "been" is not signed (will have
                   finished -> WILL FINISH); a completed action takes FINISH (I have eaten -> ME FINISH
                   EAT), not when negated or durational (have lived here for years)
  do-support       auxiliary do/does/did (before NOT, or before the subject of a question) is not signed
  TO               infinitival and directional to are not signed (want to eat -> WANT EAT)
  AND              the conjunction and is not signed between clauses
  preposition      of and at are not signed: a cup of coffee -> CUP COFFEE, I am at home -> ME HOME
  pronoun          I/me -> ME, my -> MY, him -> HE ... (one gloss per person); object her -> SHE
                   (a point), possessive her -> HER (a flat palm): her is possessive before a noun
  name             proper names and acronyms are fingerspelled: Sam -> fs-SAM
  number           digits become number signs: 3 -> THREE, 25 -> TWO FIVE (digit by digit above 20)
  lemma            inflections are dropped: liked -> LIKE, books -> BOOK
  same sign        English words that an ASL sign covers take its gloss: mom -> MOTHER, thanks -> THANK YOU
  time first       time expressions open the sentence as one unit, quantified and durational ones
                   included: I slept all night -> ALL NIGHT ME SLEEP, for two hours -> TWO HOUR,
                   each morning -> EVERY MORNING, three days ago -> THREE DAY AGO; months are times,
                   not names: in March -> MARCH
  WH last          WH-words close WH-questions: What is your name? -> YOUR NAME WHAT; a WH-phrase
                   moves as one unit: How old are you? -> YOU HOW OLD, what time -> WHAT TIME
  skipped          emoji and non-Latin words are skipped with a warning
Negation (NOT, NEVER, NO) and modals (CAN, WILL, MUST, SHOULD ...) are kept in place.
Each sentence also gets non-manual spans (`GlossResult.nonmanual`; see `text_to_gloss.nonmanual`):
whq / q over a question, neg from a negation on, t over a fronted time phrase.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from text2asl.text_to_gloss.lemmas import has_verb_reading, is_known_word, lemma, readings
from text2asl.text_to_gloss.nonmanual import Span, overline, sentence_spans

ARTICLES = {"a", "an", "the"}
# Of and locative at have no sign of their own: ASL shows the place by where a sign is made.
UNSIGNED_PREPOSITIONS = {"of", "at"}
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
MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"}
TIME_UNITS = {"day", "week", "month", "year", "night", "morning", "afternoon", "evening", "weekend", "time",
              "hour", "minute", "spring", "fall", "autumn", "summer", "winter",
              "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
# Quantifiers that make a time unit a time phrase: every day, all night, the whole week, last year.
TIME_MODIFIERS = {"last": "LAST", "next": "NEXT", "this": "THIS", "every": "EVERY", "each": "EVERY",
                  "all": "ALL", "whole": "ALL"}
# WH-phrases signed as one unit at the end of the question: HOW + these, WHAT + these.
WH_PHRASES = {"how": {"many", "much", "old", "long", "far", "often"}, "what": {"time"}}
HAVE_FORMS = {"have", "has", "had"}
# Words that may stand between an auxiliary and its verb: I have already eaten, have you ever seen.
AUX_ADVERBS = {"already", "just", "ever", "never", "not", "also", "recently", "finally", "always", "still", "really"}
# Past participles spelled like their verb (lemminflect gives no tense, only the lemma).
SAME_PARTICIPLES = {"come", "become", "run", "read", "put", "cut", "hit", "set", "let", "shut", "hurt", "cost", "quit"}
# English words that one ASL sign covers, as that sign's gloss (the lemma is looked up here first).
SAME_SIGN = {
    "mom": "MOTHER", "mum": "MOTHER", "mommy": "MOTHER", "mama": "MOTHER", "dad": "FATHER", "daddy": "FATHER",
    "grandma": "GRANDMOTHER", "granny": "GRANDMOTHER", "grandpa": "GRANDFATHER", "granddad": "GRANDFATHER",
    "hi": "HELLO", "hey": "HELLO", "bye": "GOODBYE", "thanks": "THANK YOU",
    "toilet": "BATHROOM", "restroom": "BATHROOM", "washroom": "BATHROOM",
    "glad": "HAPPY", "mad": "ANGRY", "afraid": "SCARED", "frightened": "SCARED", "scare": "SCARED",
    "sleepy": "TIRED", "exhausted": "TIRED", "telephone": "PHONE", "cellphone": "PHONE",
    "automobile": "CAR", "yeah": "YES", "yep": "YES", "meal": "FOOD",
}
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
    nonmanual: list[Span] = field(default_factory=list)  # face and head markers over `glosses` (text_to_gloss.nonmanual)
    # Where the signing pauses: gloss index -> "comma" | "sentence" | "question" (a yes/no question,
    # whose last sign is held), the break falling after that gloss. `gloss_to_pose.rhythm` times them.
    boundaries: dict[int, str] = field(default_factory=dict)
    text: str = ""  # the text as glossed (accents stripped): what `source_spans` index
    source_spans: list[tuple[int, int]] = field(default_factory=list)  # each gloss's English word in `text`

    def __str__(self) -> str:
        return " ".join(self.glosses)

    def annotated(self) -> str:
        """The glosses with a labelled line over each non-manual marker's glosses (whq, q, neg, t)."""
        return overline(self.glosses, self.nonmanual)

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
    if t.kind != "word" or t.word in PRONOUNS or t.word in SAME_SIGN or len(t.word) == 0:
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


def _is_month(t: Token) -> bool:
    """January ... December; "may" and "march" only capitalised (the modal, the verb), and May not opening a sentence."""
    if t.word not in MONTHS:
        return False
    if t.word == "may":
        return t.capitalised and not t.sentence_initial
    return t.word != "march" or t.capitalised


def _time_unit(t: Token | None, plural: bool = False) -> str:
    """The gloss of a time unit (DAY, MORNING, MARCH), lemmatised when `plural` (hours -> HOUR); '' if `t` is none."""
    if t is None or t.kind != "word":
        return ""
    if _is_month(t):
        return t.word.upper()
    word = lemma(t.word) if plural else t.word
    return word.upper() if word in TIME_UNITS else ""


def _amount(t: Token | None) -> str:
    """The number glosses of a count before a time unit (two, 3, a); '' if `t` is none."""
    if t is None:
        return ""
    if t.kind == "number":
        return " ".join(number_glosses(t.text))
    if t.word in ("a", "an", "one"):
        return "ONE"
    n = [u.lower() for u in UNITS].index(t.word) if t.word in (u.lower() for u in UNITS) else -1
    return UNITS[n] if n >= 1 else ""


def _time_phrases(tokens: list[Token], hits: list[RuleHit]) -> list[Token]:
    """Mark time expressions as kind 'time', each phrase as consecutive tokens (fronted together later).

    tomorrow, in the morning, in March; quantified: last week, every day, each morning, all
    night, the whole day; durational: for two hours, three days ago.
    """
    out: list[Token] = []
    i = 0

    def at(k: int) -> Token | None:
        return tokens[k] if k < len(tokens) else None

    def phrase(start: int, stop: int, glosses: list[str], rule: str) -> None:
        kept = [t for t in tokens[start:stop] if t.word != "the"]
        for t, g in zip(kept, glosses + [""] * len(kept)):
            t.kind, t.gloss = "time", g
        out.extend(t for t in kept if t.gloss)
        hits.append(RuleHit(rule, f"{' '.join(t.text for t in tokens[start:stop])} -> {' '.join(glosses)}"))

    while i < len(tokens):
        t, nxt = tokens[i], at(i + 1)
        the = int(nxt is not None and nxt.word == "the")
        if t.word == "the" and nxt is not None and nxt.word == "whole":  # the whole day
            i += 1
            continue
        unit = _time_unit(at(i + 1 + the))
        if t.word in TIME_MODIFIERS and unit and (t.word in ("all",) or not the):
            j = i + 2 + the
            j += int(at(j) is not None and at(j).word == "long")  # all day long
            phrase(i, j, [TIME_MODIFIERS[t.word], unit], "time phrase")
            i = j
            continue
        count = _amount(nxt) if t.word == "for" else _amount(t)
        if count:  # for two hours / three days ago
            k = i + 1 + (t.word == "for")
            unit = _time_unit(at(k), plural=True)
            ago = at(k + 1) is not None and at(k + 1).word == "ago"
            if unit and (t.word == "for" or ago):
                glosses = [count, unit] + (["AGO"] if ago else [])  # TWO FIVE stays on its one token
                phrase(i, k + 1 + ago, ([""] if t.word == "for" else []) + glosses, "duration")
                i = k + 1 + ago
                continue
        if t.word in ("in", "at", "on") and nxt is not None:
            j = i + 1 + the
            unit = _time_unit(at(j))
            if unit and unit != "TIME":
                tokens[j].kind = "time"
                tokens[j].gloss = unit
                hits.append(RuleHit("preposition of time", f"{' '.join(x.text for x in tokens[i:j])} (not signed)"))
                out.append(tokens[j])
                i = j + 1
                continue
        if t.kind == "word" and (t.word in TIME_WORDS or _is_month(t)):
            t.kind = "time"
            t.gloss = t.word.upper()
        out.append(t)
        i += 1
    return out


def _wh_phrases(tokens: list[Token], hits: list[RuleHit]) -> list[Token]:
    """Join a WH-word and the word completing it (how many, how old, what time) into one 'wh' token."""
    out: list[Token] = []
    for t in tokens:
        prev = out[-1] if out else None
        if prev is not None and prev.kind == "word" and t.kind == "word" and t.word in WH_PHRASES.get(prev.word, ()):
            prev.kind, prev.gloss, prev.text = "wh", f"{prev.word.upper()} {t.word.upper()}", f"{prev.text} {t.text}"
            hits.append(RuleHit("WH-phrase", f"{prev.text} -> {prev.gloss} (one unit)"))
            continue
        out.append(t)
    return out


def _perfect_participle(tokens: list[Token], i: int, question: bool) -> int | None:
    """Index of the past participle (or "been") with which the have/has/had at `i` forms a perfect, else None.

    Adverbs may stand between (have already eaten), and in a question the subject (have you seen).
    """
    j = i + 1
    if question and j < len(tokens) and (tokens[j].word in PRONOUNS or _is_name(tokens[j])):
        j += 1
    while j < len(tokens) and tokens[j].word in AUX_ADVERBS:
        j += 1
    if j >= len(tokens) or tokens[j].kind != "word":
        return None
    w = tokens[j].word
    verbs = readings(w).get("VERB", ())
    if w == "been" or w in SAME_PARTICIPLES or (verbs and w not in verbs and not w.endswith(("s", "ing"))):
        return j
    return None


def _sentence(tokens: list[Token], question: bool, hits: list[RuleHit]) -> list[Token]:
    tokens = _expand(tokens, hits)
    words = {t.word for t in tokens}
    tokens = _wh_phrases(_time_phrases(tokens, hits), hits)
    ongoing = bool({"since", "for", "all", "whole", "long"} & words)  # have lived here for years: no FINISH
    kept: list[Token] = []
    seen_be = False  # inside a predicate after BE: "was hungry and tired" -> TIRED, not TIRE
    finish_at = -1  # the participle of a completed perfect: I have eaten -> ME FINISH EAT
    did_support = False
    for i, t in enumerate(tokens):
        w = t.word
        prev = tokens[i - 1].word if i else ""
        seen_be = seen_be or prev in BE_FORMS
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if t.kind in ("time",) or (t.kind == "wh" and t.gloss):
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
        if w in HAVE_FORMS and (j := _perfect_participle(tokens, i, question)) is not None:
            negated = any(x.word in NEGATIONS for x in tokens[i:j])
            if tokens[j].word != "been" and not negated and not ongoing:
                finish_at = j
            hits.append(RuleHit("perfect HAVE", f"{t.text} ... {tokens[j].text}" + (" (FINISH)" if finish_at == j else "")))
            continue
        # Before the subject of a question (the first time only: what do you do?), after nothing but
        # a WH-phrase and what it asks about (how much does it cost?) or a time phrase.
        opens_question = question and not did_support and (not kept or kept[0].kind == "wh" or (
            kept[0].kind == "time" and all(k.kind in ("time", "wh") for k in kept)))
        if w in DO_FORMS and nxt is not None and (nxt.word == "not" or (
                opens_question and (nxt.word in SUBJECT_STARTERS | {"not"} or _opens_noun_phrase(nxt)))):
            hits.append(RuleHit("do-support", f"{t.text} {nxt.text}"))
            did_support = True
            continue
        if w == "to" and nxt is not None:
            hits.append(RuleHit("TO", f"to {nxt.text}" + (" (infinitive)" if has_verb_reading(nxt.word) else " (direction)")))
            continue
        if w == "and" and kept:
            hits.append(RuleHit("AND", t.text))
            continue
        if w in UNSIGNED_PREPOSITIONS:
            hits.append(RuleHit(f"preposition {w.upper()}", f"{t.text} (not signed)"))
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
            t.gloss = SAME_SIGN.get(w) or SAME_SIGN.get(lem) or lem.upper()
            if t.gloss != lem.upper():
                hits.append(RuleHit("same sign", f"{t.text} -> {t.gloss}"))
            elif lem != w:
                hits.append(RuleHit("lemma", f"{t.text} -> {t.gloss}"))
            if i == finish_at and t.gloss != "FINISH":
                t.gloss = "FINISH " + t.gloss
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
        sentence, kinds = [], []
        for k, t in enumerate(glossed):
            for g in t.gloss.split():
                result.glosses.append(g)
                result.sources.append(t.text)
                result.source_spans.append((t.start, t.end))
                sentence.append(g)
                kinds.append(t.kind)
            nxt = glossed[k + 1].index if k + 1 < len(glossed) else None
            # A comma between this word and the next one signed (in the English order): pause here.
            if sentence and nxt is not None and any(t.index <= c < nxt for c in comma_after):
                result.boundaries[len(result.glosses) - 1] = "comma"
        if sentence:
            offset = len(result.glosses) - len(sentence)
            commas = [b - offset for b, kind in result.boundaries.items() if kind == "comma" and b >= offset]
            result.nonmanual += [span.shifted(offset) for span in sentence_spans(kinds, question, commas)]
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
