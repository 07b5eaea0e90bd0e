"""Measurement: how many glosses of everyday sentences are signed as signs rather than fingerspelled.

42 everyday English sentences in the embedded word lexicon's domains (family, feelings, time,
places, questions, numbers, months), written before the gloss rules were tuned and kept fixed
since: the gloss rules were improved on the categories of issue 17 (and on words in general),
not on these sentences. A gloss counts as a sign when a lexicon signs it or it is built
(pronouns point); fingerspelled words count against. Names would be fingerspelled in ASL too,
and none of these sentences has one.

Two columns: the embedded default (asl-app word signs, then the alphabet) and the alphabet alone
(`--no-embedded-words`, what the package signed before the word signs were embedded).

    .venv/bin/python benchmarks/coverage.py [--show]
"""
from __future__ import annotations

import argparse

from text2asl.pipeline import translate

SENTENCES = [
    "My mother is happy today.",
    "Where is the bathroom?",
    "How are you?",
    "My grandfather lives in a small house.",
    "I am hungry and thirsty.",
    "What time is it?",
    "How many brothers do you have?",
    "My birthday is in March.",
    "We will go to school tomorrow.",
    "Why are you sad?",
    "I need water, please.",
    "My sister is scared of dogs.",
    "Who is your friend?",
    "I was tired last night.",
    "Thank you for the food.",
    "Is your grandmother at the hospital?",
    "I have three sisters and two brothers.",
    "School starts in September.",
    "When is your mother coming home?",
    "I read a book every morning.",
    "My family is going to the hospital now.",
    "I want to learn sign language.",
    "Which car is yours?",
    "Sorry, I am late.",
    "My father was angry yesterday.",
    "Please wait here.",
    "I have finished my homework.",
    "How old is your grandmother?",
    "We sleep at home.",
    "My friend has seven cats.",
    "Can you write your phone number?",
    "Goodbye, see you later.",
    "My son is ten years old.",
    "It is cold in January.",
    "I am happy to see you.",
    "Where does your family live?",
    "How much does the food cost?",
    "Are you hungry now?",
    "My daughter was born in July.",
    "I feel good today.",
    "Please sit down.",
    "We have been waiting all morning.",
]


def signed_share(text: str, embedded_words: bool) -> tuple[int, int, str]:
    """(glosses signed as signs, glosses signed at all, the signed sequence) for one text."""
    t = translate(text, embedded_words=embedded_words)
    counts = t.plan.counts()
    signs = counts["lexicon"] + counts["built"]
    return signs, signs + counts["fingerspelled"], " ".join(t.glosses)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", action="store_true", help="print each sentence's signed sequence")
    args = ap.parse_args()
    totals = {}
    for label, words in (("embedded default", True), ("alphabet only", False)):
        signs = total = 0
        for text in SENTENCES:
            s, n, seq = signed_share(text, words)
            signs, total = signs + s, total + n
            if args.show and words:
                print(f"{s}/{n}  {text:<45} {seq}")
        totals[label] = (signs, total)
    print("\n| lexicons | sentences | glosses | signed as signs |\n|---|---|---|---|")
    for label, (signs, total) in totals.items():
        print(f"| {label} | {len(SENTENCES)} | {total} | {signs} ({100 * signs / total:.0f} %) |")


if __name__ == "__main__":
    main()
