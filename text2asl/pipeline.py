"""The lexicon track end to end: `translate(text)` -> glosses, coverage and poses; `save()` renders and writes."""
from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from text2asl.errors import Text2ASLError
from text2asl.gloss_to_pose.clipcache import ClipCache
from text2asl.gloss_to_pose.lexicon import Lexicon, default_lexicons
from text2asl.gloss_to_pose.lookup import SignPlan, TokenCoverage, Unit, plan_signs
from text2asl.gloss_to_pose.nonmanual import carried_by_face, unit_spans
from text2asl.gloss_to_pose.rhythm import assign_pauses
from text2asl.gloss_to_pose.stitch import StitchConfig, Stitcher
from text2asl.poses.layout import PoseArray, to_pose
from text2asl.text_to_gloss.nonmanual import Span
from text2asl.text_to_gloss.rules import GlossResult, parse_glosses, text_to_gloss


@dataclass
class Translation:
    """What `translate` returns. Poses are stitched lazily (`chunks()` streams them)."""

    text: str | None
    gloss: GlossResult
    plan: SignPlan
    config: StitchConfig
    lexicons: list[Lexicon] = field(repr=False, default_factory=list)
    _stitcher: Stitcher = field(repr=False, default=None)
    nonmanual: list[Span] = field(default_factory=list)  # face and head markers over `units` (gloss_to_pose.nonmanual)

    @property
    def glosses(self) -> list[str]:
        """The signed sequence: lexicon glosses, fingerspelled words as fs-WORD."""
        return self.plan.glosses

    @property
    def coverage(self) -> list[TokenCoverage]:
        return self.plan.coverage

    @property
    def units(self) -> list[Unit]:
        return self.plan.units

    @property
    def fps(self) -> float:
        return self.config.fps

    def chunks(self) -> Iterator[tuple[PoseArray, list[str]]]:
        """Stream of (normalised PoseArray chunk, per-frame captions), one per unit, non-manual markers laid on."""
        chunks = self._stitcher.stream(self.plan.units)
        if not self.nonmanual:
            return chunks
        from text2asl.gloss_to_pose.nonmanual import Marker

        units = self.plan.units

        def units_frames(start: int, stop: int) -> int:
            return sum(len(p) for u in units[start:stop] for p, _ in self._stitcher.unit_pieces(u))

        return Marker(self.nonmanual, units_frames, self.config.fps).stream(chunks)

    def sequence(self) -> PoseArray:
        """The whole stitched, normalised sequence (memory grows with the text: prefer `chunks()`)."""
        arr = PoseArray.concatenate([c for c, _ in self.chunks()])
        arr.fps = self.config.fps
        return arr

    def captions(self) -> list[str]:
        return [cap for _, caps in self.chunks() for cap in caps]

    @functools.cached_property
    def pose(self):
        """The stitched sequence as a `pose_format.Pose` (canonical holistic layout, shoulder units)."""
        return to_pose(self.sequence())

    def summary(self) -> str:
        """Coverage report: one line per gloss, then counts."""
        lines = [str(c) for c in self.coverage]
        counts = self.plan.counts()
        lines.append(f"{counts['lexicon']} signed from lexicons, {counts['built']} built (indexing), {counts['fingerspelled']} fingerspelled, {counts['skipped']} skipped")
        return "\n".join(lines)


def translate(
    text: str | None = None,
    *,
    glosses: str | Sequence[str] | None = None,
    lexicons: Sequence[str | Path | Lexicon] = (),
    embedded_words: bool = True,
    config: StitchConfig | None = None,
    nonmanual: bool = True,
) -> Translation:
    """English `text` (or `glosses` given directly) -> `Translation` with glosses, coverage and pose.

    `lexicons` are searched in order, then the embedded asl-app word signs (unless
    `embedded_words` is False); the embedded ASL alphabet fingerspells everything else
    (`default_lexicons`). `nonmanual` lays the glosser's face and head markers (questions,
    negation, topics) on the pose; then a NOT no lexicon signs is left to the head shake.
    Raises `Text2ASLError` for empty or unsignable input.
    """
    if glosses is not None:
        gloss_text = glosses if isinstance(glosses, str) else " ".join(glosses)
        result = parse_glosses(gloss_text)
        if not result.glosses:
            raise Text2ASLError("the gloss list is empty; give glosses like \"HELLO fs-SAM\"")
    else:
        if text is None or not text.strip():
            raise Text2ASLError("the text is empty; give an English sentence (or --glosses)")
        result = text_to_gloss(text)
        if not result.glosses:
            raise Text2ASLError(f"nothing in {text[:60]!r} can be signed: it has no English words or numbers")
    opened = default_lexicons(lexicons, words=embedded_words)
    glosses_, sources, spans = result.glosses, result.sources, result.nonmanual if nonmanual else []
    boundaries = result.boundaries
    if spans:
        keep, spans = carried_by_face(glosses_, spans, lambda g: any(lex.find(g) for lex in opened))
        glosses_, sources = [glosses_[i] for i in keep], [sources[i] for i in keep]
        # A pause after a gloss left to the face falls after the last gloss still signed before it.
        after = {b: bisect.bisect_right(keep, b) - 1 for b in boundaries}
        boundaries = {after[b]: kind for b, kind in boundaries.items() if after[b] >= 0}
    plan = plan_signs(glosses_, sources, opened, Lexicon.embedded())
    assign_pauses(plan.units, boundaries)
    if not plan.units:
        raise Text2ASLError("none of the glosses can be signed: they have no letters to fingerspell")
    config = config or StitchConfig()
    return Translation(text, result, plan, config, opened, Stitcher(config, clips=ClipCache.default()),
                       unit_spans(spans, plan.coverage))


CAPTION_MODES = ("gloss", "english", "both")


def english_span(translation: Translation, unit: Unit) -> tuple[str, int, int]:
    """(sentence, start, end): the English sentence a unit signs, and its word(s) in it ("" without text)."""
    from text2asl.text_to_gloss.rules import sentence_ends

    text, spans = translation.gloss.text, translation.gloss.source_spans[unit.span[0]:unit.span[1]]
    if not text or not spans:
        return "", 0, 0
    start, end = min(a for a, _ in spans), max(b for _, b in spans)
    ends = sentence_ends(text)
    first = max([e for e in ends if e <= start], default=0)
    last = min([e for e in ends if e >= end], default=len(text))
    raw = "".join(" " if ch.isspace() else ch for ch in text[first:last])  # one line, offsets kept
    lead = len(raw) - len(raw.lstrip())
    return raw.strip(), start - first - lead, end - first - lead


def captioned_chunks(translation: Translation, mode: str = "gloss") -> Iterator[tuple[PoseArray, list]]:
    """`translation.chunks()` with captions as `mode` asks: "gloss" (strings, as the stitcher makes them),
    "english" (a `Caption` with the English sentence, the word being signed highlighted) or "both"."""
    if mode not in CAPTION_MODES:
        raise ValueError(f"caption mode {mode!r}; expected one of {CAPTION_MODES}")
    if mode == "gloss":
        yield from translation.chunks()
        return
    from text2asl.pose_to_video.render import Caption

    units = iter(translation.units)
    unit = prev = None
    english: dict[int, tuple[str, int, int]] = {}
    for chunk, captions in translation.chunks():
        if not chunk.meta.get("continued"):
            prev, unit = unit, next(units)
        half = chunk.meta.get("transition_frames", 0) // 2  # the stitcher's captions switch mid-transition
        out = []
        for i, gloss in enumerate(captions):
            owner = prev if i < half and prev is not None else unit
            if id(owner) not in english:
                english[id(owner)] = english_span(translation, owner)
            sentence, start, end = english[id(owner)]
            out.append(Caption(gloss if mode == "both" or not sentence else "", sentence, start, end))
        yield chunk, out


def render_frames(translation: Translation, render=None, captions: str = "gloss") -> Iterator[np.ndarray]:
    """(size, size, 3) uint8 RGB skeleton frames of a translation, streamed, captioned as `captions` says
    (see `captioned_chunks`; `render.caption=False` draws none)."""
    from text2asl.pose_to_video.render import SkeletonRenderer

    # A generator: nothing (not even OpenCV's import) happens until the first frame is asked for,
    # so the writer can ask ffmpeg about its encoders meanwhile.
    yield from SkeletonRenderer(render).render_stream(captioned_chunks(translation, captions))


def save(translation: Translation, path: str | Path, render=None, captions: str = "gloss") -> Path:
    """Write `.mp4` (H.264), `.gif` or `.pose` by extension, atomically."""
    from text2asl.io import check_output_path, write_pose_stream
    from text2asl.pose_to_video.render import RenderConfig
    from text2asl.pose_to_video.writer import FLAT_ENCODER, write_video

    path = check_output_path(path)
    if path.suffix.lower() == ".pose":
        return write_pose_stream(translation.chunks(), path, translation.fps)
    render = render or RenderConfig()
    return write_video(render_frames(translation, render, captions), path, translation.fps, encoder=FLAT_ENCODER,
                       repeats_unchanged=True, size=(render.size, render.size))
