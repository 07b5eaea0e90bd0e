"""Glosses to signs: look each gloss up in the lexicons in priority order, else fingerspell it.

Matching tries the longest run of glosses first (THANK YOU before THANK), by gloss, by words and
by lemma, in each lexicon in turn, then as the other half of an ASL noun-verb pair (EAT is
signed like FOOD); a gloss no lexicon has is fingerspelled with the embedded alphabet. Pronouns and
possessives no lexicon records (ME, YOUR ...) are built instead (`pointing`): a point or a flat
palm. The result is a plan of units (a sign, a built sign, or a
fingerspelled word) and a coverage report.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from text2asl.gloss_to_pose.pointing import SIGNS, find_handshape_entry
from text2asl.gloss_to_pose.lexicon import Lexicon, LexiconEntry


# ASL noun-verb pairs share one sign (the noun repeats a shorter movement): a lexicon that records
# one half signs the other (Supalla & Newport 1978: CHAIR/SIT, CAR/DRIVE, FOOD/EAT).
NOUN_VERB_PAIRS = {"EAT": "FOOD", "FOOD": "EAT", "DRIVE": "CAR", "CAR": "DRIVE", "SIT": "CHAIR", "CHAIR": "SIT"}


@dataclass
class Unit:
    """One thing to sign: a lexicon sign, a built indexing sign, or a word fingerspelled letter by letter."""

    label: str  # what the caption shows: HELLO, ME, fs-SAM
    kind: str  # "sign" | "built" | "fingerspelling"
    items: list[tuple[Lexicon, LexiconEntry]]  # one sign, the built sign's handshape, or the letters in order
    letters: str = ""
    span: tuple[int, int] = (0, 0)  # the glosses it signs: indices [start, stop) into the planned glosses
    pause: str = ""  # the break after it: "" | "comma" | "sentence" | "question" (`rhythm.assign_pauses`)


@dataclass
class TokenCoverage:
    """How one gloss was signed."""

    gloss: str  # as asked: HELLO, THANK YOU, fs-SAM
    source: str  # the English word(s)
    kind: str  # "lexicon" | "built" | "fingerspelled" | "skipped"
    signed_as: str  # HELLO, fs-PIZZA, or "" when skipped
    lexicon: str | None = None
    reason: str = ""

    def __str__(self) -> str:
        where = f" ({self.lexicon})" if self.lexicon else ""
        why = f" [{self.reason}]" if self.reason else ""
        return f"{self.source!r:>14} -> {self.signed_as or '-':<16} {self.kind}{where}{why}"


@dataclass
class SignPlan:
    units: list[Unit] = field(default_factory=list)
    coverage: list[TokenCoverage] = field(default_factory=list)

    @property
    def glosses(self) -> list[str]:
        return [u.label for u in self.units]

    def counts(self) -> dict[str, int]:
        out = {"lexicon": 0, "built": 0, "fingerspelled": 0, "skipped": 0}
        for c in self.coverage:
            out[c.kind] += 1
        return out


def fingerspell(word: str, alphabet: Lexicon) -> Unit | None:
    """The letters of `word` (A-Z only) as one fingerspelling unit; None when it has no letters."""
    letters = re.sub(r"[^A-Z]", "", word.upper())
    items = []
    for ch in letters:
        entries = alphabet.find(ch)
        if entries:
            items.append((alphabet, entries[0]))
    if not items:
        return None
    return Unit(f"fs-{letters}", "fingerspelling", items, letters)


def _longest_match(glosses: list[str], i: int, lexicons: list[Lexicon], max_n: int):
    """(n, lexicon, entry) for the longest run of glosses from `i` that a lexicon signs, else None."""
    for n in range(min(max_n, len(glosses) - i), 0, -1):
        window = glosses[i : i + n]
        if any(w.startswith("fs-") for w in window):
            continue
        for lex in lexicons:
            entries = lex.find(" ".join(window))
            if entries:
                return n, lex, entries[0]
    pair = NOUN_VERB_PAIRS.get(glosses[i])
    for lex in lexicons if pair else ():
        entries = lex.find(pair)
        if entries:
            return 1, lex, entries[0]
    return None


def plan_signs(glosses: list[str], sources: list[str], lexicons: list[Lexicon], alphabet: Lexicon) -> SignPlan:
    """Look glosses up; `lexicons` in priority order (the alphabet is always the last resort)."""
    plan = SignPlan()
    max_n = max([lex.max_words for lex in lexicons] + [1])
    i = 0
    while i < len(glosses):
        g = glosses[i]
        match = None if g.startswith("fs-") else _longest_match(glosses, i, lexicons, max_n)
        if match is not None:
            n, lex, entry = match
            key = " ".join(glosses[i : i + n])
            label = entry.gloss.upper().replace(" ", "-") if n > 1 else key
            plan.units.append(Unit(label, "sign", [(lex, entry)], span=(i, i + n)))
            why = f"the sign of {entry.gloss}, its noun-verb pair" if n == 1 and NOUN_VERB_PAIRS.get(key) and not lex.find(key) else ""
            plan.coverage.append(TokenCoverage(key, " ".join(dict.fromkeys(sources[i : i + n])), "lexicon", label, lex.name, why))
            i += n
            continue
        hand = find_handshape_entry(SIGNS[g].handshape, lexicons) if g in SIGNS else None
        if hand is not None:  # no lexicon records it: point, or show the palm
            plan.units.append(Unit(g, "built", [hand], span=(i, i + 1)))
            why = f"{SIGNS[g].handshape} handshape from {hand[1].gloss} ({hand[0].name})"
            plan.coverage.append(TokenCoverage(g, sources[i], "built", g, "indexing", why))
            i += 1
            continue
        name = g.startswith("fs-")
        unit = fingerspell(g[3:] if name else g, alphabet)
        if unit is None:
            plan.coverage.append(TokenCoverage(g, sources[i], "skipped", "", reason="no letters to fingerspell"))
        else:
            unit.span = (i, i + 1)
            plan.units.append(unit)
            why = "name" if name else "not in any lexicon"
            plan.coverage.append(TokenCoverage(g, sources[i], "fingerspelled", unit.label, alphabet.name, why))
        i += 1
    return plan
