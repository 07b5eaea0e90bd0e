"""Non-manual markers over glosses: WH-question (whq), yes/no question (q), negation (neg) and topic (t).

ASL marks these on the face and head, not with signs. The rules glosser knows each sentence's
type, so it emits spans over the glosses:

  t    a fronted time phrase (TOMORROW, LAST WEEK) before the rest of the sentence: raised brows
  whq  a question with a WH-word: the question clause after any topic, brows lowered and drawn together
  q    a question without one: the clause after any topic, brows raised, head forward
  neg  from the negation (NOT, NEVER, NO ...) to the end of the clause (a comma, or the sentence's
       end before a WH-word moved there): the negated predicate, head shake

`overline` writes them as linguists do: a line over the covered glosses, labelled at its end.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

MARKERS = ("t", "whq", "q", "neg")


@dataclass(frozen=True)
class Span:
    """One marker over glosses `start`..`stop` - 1 (indices into the glosses it was made for)."""

    marker: str  # one of MARKERS
    start: int
    stop: int

    def shifted(self, by: int) -> "Span":
        return Span(self.marker, self.start + by, self.stop + by)


def sentence_spans(kinds: list[str], question: bool, commas: Sequence[int] = ()) -> list[Span]:
    """Spans over one sentence's glosses, given each gloss's token kind (time, wh, neg, word ...).

    `commas`: indices of the glosses a comma follows; a negation's head shake stops at the first one.
    """
    n = len(kinds)
    spans: list[Span] = []
    topic = 0
    while topic < n and kinds[topic] == "time":
        topic += 1
    if 0 < topic < n:
        spans.append(Span("t", 0, topic))
    else:
        topic = 0
    if question and topic < n:
        spans.append(Span("whq" if "wh" in kinds else "q", topic, n))
    if "neg" in kinds:
        start = kinds.index("neg")
        end = n - 1 if question and kinds[-1] == "wh" and start < n - 1 else n  # not the moved WH-word
        end = min([end] + [c + 1 for c in commas if c >= start])
        spans.append(Span("neg", start, end))
    return spans


def overline(glosses: list[str], spans: list[Span]) -> str:
    """The glosses under one labelled line per span, e.g.

        ____________q
        YOUR MOTHER TIRED

    Spans that do not overlap share a line; every line ends with its labels.
    """
    starts, pos = [], 0
    for g in glosses:
        starts.append(pos)
        pos += len(g) + 1
    rows: list[list[Span]] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.stop)):
        for row in rows:
            if all(span.start >= s.stop or span.stop <= s.start for s in row):
                row.append(span)
                break
        else:
            rows.append([span])
    lines = []
    for row in rows:
        line = ""
        for span in sorted(row, key=lambda s: s.start):
            a = starts[span.start]
            b = starts[span.stop - 1] + len(glosses[span.stop - 1])
            line = line.ljust(a) + "_" * max(1, b - a - len(span.marker)) + span.marker
        lines.append(line.rstrip())
    return "\n".join(lines + [" ".join(glosses)])
