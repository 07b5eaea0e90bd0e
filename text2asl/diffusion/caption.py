"""The caption format of the skeleton datasets ("asl skeleton, HELLO, phase 3 of 8"): writing, parsing, and where the gloss sits."""
from __future__ import annotations

import re

CAPTION = "asl skeleton, {gloss}, phase {phase} of {n}"
_CAPTION_RE = re.compile(r"^asl skeleton, (?P<gloss>.+), phase (?P<phase>\d+) of (?P<n>\d+)$")


def gloss_token(gloss: str) -> str:
    """The gloss as it appears in captions: upper case, spaces as hyphens (THANK YOU -> THANK-YOU)."""
    return "-".join(gloss.upper().split())


def caption(gloss: str, phase: int, n_phases: int) -> str:
    """'asl skeleton, HELLO, phase 3 of 8' for the 3rd of 8 keyframes (phase is 1-based)."""
    return CAPTION.format(gloss=gloss_token(gloss), phase=phase, n=n_phases)


def parse_caption(text: str) -> tuple[str, int, int] | None:
    """(gloss, phase, n_phases) of a caption made by `caption`, else None."""
    m = _CAPTION_RE.match(text.strip())
    return (m["gloss"], int(m["phase"]), int(m["n"])) if m else None


def gloss_span(prompt: str) -> tuple[int, int] | None:
    """(start, end) characters of the gloss in a dataset caption, None for any other prompt."""
    parsed = parse_caption(prompt)
    if parsed is None:
        return None
    start = prompt.index(parsed[0], CAPTION.index("{gloss}"))
    return start, start + len(parsed[0])


def gloss_positions(tokenizer, prompt: str) -> list[int]:
    """Token positions of the gloss of a dataset caption as `tokenizer` splits it ([] for any other prompt)."""
    span = gloss_span(prompt)
    if span is None:
        return []
    return [p for _, pos, (a, b) in token_words(tokenizer, prompt) if a >= span[0] and b <= span[1] for p in pos]


def token_words(tokenizer, prompt: str) -> list[tuple[str, list[int], tuple[int, int]]]:
    """[(word, token positions, (start, end) characters in `prompt`)] as the pipeline tokenises `prompt`.

    Position 0 is the start token. Fast tokenizers report which word each token belongs to;
    otherwise CLIP's BPE marks the end of a word with '</w>' and words are found in the prompt in order.
    """
    enc = tokenizer(prompt, truncation=True, max_length=tokenizer.model_max_length)
    try:
        word_ids = enc.word_ids()
    except (ValueError, AttributeError):
        word_ids = None
    if word_ids is not None:
        groups: dict[int, list[int]] = {}
        for pos, wid in enumerate(word_ids):
            if wid is not None:
                groups.setdefault(wid, []).append(pos)
        out = []
        for wid, pos in groups.items():
            span = enc.word_to_chars(wid)
            out.append((prompt[span.start:span.end], pos, (span.start, span.end)))
        return out
    tokens = tokenizer.convert_ids_to_tokens(enc.input_ids)
    special = set(tokenizer.all_special_tokens)
    words: list[tuple[str, list[int]]] = []
    current: list[int] = []
    for pos, tok in enumerate(tokens):
        if tok in special:
            continue
        current.append(pos)
        if tok.endswith("</w>"):
            words.append((tokenizer.convert_tokens_to_string([tokens[p] for p in current]).strip(), current))
            current = []
    if current:
        words.append((tokenizer.convert_tokens_to_string([tokens[p] for p in current]).strip(), current))
    out, cursor, lower = [], 0, prompt.lower()
    for word, pos in words:
        start = lower.find(word.lower(), cursor)
        start = cursor if start < 0 else start
        cursor = start + len(word)
        out.append((prompt[start:cursor] or word, pos, (start, cursor)))
    return out
