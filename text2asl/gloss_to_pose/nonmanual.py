"""Non-manual markers on the stitched poses: brows raised or lowered, the head forward or shaking.

The glosser's spans (`text_to_gloss.nonmanual`) are mapped onto the units that sign them
(`unit_spans`), and `mark` lays them over the stitcher's stream, chunk by chunk, on top of the face
each sign was recorded with (ANGRY's frown stays a frown; a question raises it). A marker eases
in over the transition into its first sign and out over the transition after its last, so the
face never jumps.

Magnitudes (`MarkerConfig`) are calibrated on the asl-app recordings: brow height (eye centre to
brow centre, in eye widths; `poses.face.brow_height`) has a median of 0.77 over its 100 signs
(sd 0.08), 0.49 for ANGRY (brows down) and 1.04 for SAD (brows up). A question moves the brows by
about those extremes: +0.25 for q and t, -0.25 for whq, whose inner brow ends also close in.
The head shake turns the head and face about the neck's vertical axis, 15 degrees each way at
about 2 cycles a second and never fewer than 2 full cycles over the negated signs.

A gloss that only carries a marker is not signed by hand when no lexicon has it: NOT before a
predicate is left to the head shake, as ASL allows (`carried_by_face`), instead of being spelled.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

from text2asl.poses.face import BROWS, head_axes
from text2asl.poses.layout import FACE, HEAD, LEFT_EAR, RIGHT_EAR, PoseArray
from text2asl.text_to_gloss.nonmanual import Span

# Dense face meshes also have a lower brow contour; it moves with the brow.
LOWER_BROWS = {"right": (46, 53, 52, 65, 55), "left": (276, 283, 282, 295, 285)}
_HEAD_COLS = np.r_[np.arange(HEAD.start, HEAD.stop), np.arange(FACE.start, FACE.stop)]
CARRIED = {"NOT"}  # glosses a head shake can carry alone


@dataclass
class MarkerConfig:
    """How strong each marker is (brows in eye widths, the head in ear widths, angles in degrees)."""

    brow_raise: float = 0.25  # q and t: as far up as SAD's brows are above the median
    brow_lower: float = 0.25  # whq: as far down as ANGRY's
    brow_squeeze: float = 0.15  # whq: the inner brow ends move this far toward the nose
    head_forward: float = 0.06  # q: the head moves this far down (toward the viewer, seen from the front)
    head_nearer: float = 0.02  # q: ... and looks this much larger
    shake_deg: float = 15.0  # neg: yaw each way
    shake_hz: float = 2.0
    min_cycles: int = 2
    ease_s: float = 0.2  # a marker eases in (out) over this long at the start (end) of the video


def carried_by_face(glosses: list[str], spans: list[Span], signed) -> tuple[list[int], list[Span]]:
    """(indices of glosses to sign by hand, spans re-indexed onto them).

    A gloss in `CARRIED` inside a neg span with more glosses after it is dropped when `signed(gloss)`
    (any lexicon but the alphabet has it) is false: the head shake over the predicate carries it.
    """
    drop = set()
    for span in spans:
        if span.marker == "neg":
            for i in range(span.start, span.stop - 1):
                if glosses[i] in CARRIED and not signed(glosses[i]):
                    drop.add(i)
    keep = [i for i in range(len(glosses)) if i not in drop]
    new_index = {old: new for new, old in enumerate(keep)}
    out = []
    for span in spans:
        kept = [new_index[i] for i in range(span.start, span.stop) if i in new_index]
        if kept:
            out.append(Span(span.marker, kept[0], kept[-1] + 1))
    return keep, out


def unit_spans(spans: list[Span], coverage) -> list[Span]:
    """Spans over glosses -> spans over the plan's units (coverage rows in gloss order; skipped rows make no unit)."""
    unit_of: list[int | None] = []
    unit = 0
    for row in coverage:
        n = len(row.gloss.split()) if row.kind == "lexicon" else 1
        unit_of += [None if row.kind == "skipped" else unit] * n
        unit += row.kind != "skipped"
    out = []
    for span in spans:
        units = [u for u in unit_of[span.start : span.stop] if u is not None]
        if units:
            out.append(Span(span.marker, min(units), max(units) + 1))
    return out


def _ease(s: np.ndarray) -> np.ndarray:
    s = np.clip(s, 0.0, 1.0)
    return s * s * (3 - 2 * s)


class Marker:
    """Lays unit spans over a stream of (chunk, captions), one chunk behind (to ease out at the very end)."""

    def __init__(self, spans: list[Span], units_frames, fps: float, config: MarkerConfig | None = None):
        """`units_frames(start, stop)`: how many frames units start..stop - 1 take, without transitions."""
        self.spans = spans
        self.units_frames = units_frames
        self.fps = fps
        self.config = config or MarkerConfig()
        self._phase: dict[Span, float] = {}  # head-shake phase (cycles) reached per neg span
        self._rate: dict[Span, float] = {}  # cycles per frame

    def stream(self, chunks: Iterable[tuple[PoseArray, list[str]]]) -> Iterator[tuple[PoseArray, list[str]]]:
        unit = -1
        held = None
        for chunk, captions in chunks:
            if not chunk.meta.get("continued"):
                unit += 1
            if held is not None:
                yield self._apply(*held, last=False)
            held = (chunk, captions, unit)
        if held is not None:
            yield self._apply(*held, last=True)

    def envelope(self, span: Span, chunk: PoseArray, unit: int, last: bool) -> np.ndarray:
        """(len(chunk),) strength 0..1 of `span` over the frames of unit `unit`'s chunk."""
        n = len(chunk)
        between = 0 if chunk.meta.get("continued") else int(chunk.meta.get("transition_frames", 0))
        inside = span.start <= unit < span.stop
        before = span.start <= unit - 1 < span.stop
        e = np.full(n, 1.0 if inside else 0.0)
        ramp = _ease(np.arange(1, between + 1) / (between + 1))
        if between and inside and not before:
            e[:between] = ramp
        elif between and before and not inside:
            e[:between] = 1.0 - ramp
        ease = max(1, int(round(self.config.ease_s * self.fps)))
        if inside and unit == span.start and unit == 0 and not chunk.meta.get("continued"):
            e[: min(ease, n)] = _ease(np.arange(1, min(ease, n) + 1) / (ease + 1))
        if inside and last:
            k = min(ease, n)
            e[n - k :] *= _ease(np.arange(k, 0, -1) / (ease + 1))
        return e

    def _apply(self, chunk: PoseArray, captions: list[str], unit: int, last: bool):
        c = self.config
        brows = np.zeros(len(chunk))
        squeeze = np.zeros(len(chunk))
        forward = np.zeros(len(chunk))
        yaw = np.zeros(len(chunk))
        for span in self.spans:
            if unit < span.start or unit > span.stop:
                continue
            e = self.envelope(span, chunk, unit, last)
            if not e.any():
                continue
            if span.marker in ("q", "t"):
                brows += c.brow_raise * e
            if span.marker == "q":
                forward = np.maximum(forward, e)
            if span.marker == "whq":
                brows -= c.brow_lower * e
                squeeze = np.maximum(squeeze, e)
            if span.marker == "neg":
                yaw += math.radians(c.shake_deg) * e * np.sin(2 * np.pi * self._shake_phase(span, e))
        if not (brows.any() or squeeze.any() or forward.any() or yaw.any()):
            return chunk, captions
        out = chunk.copy()
        move_brows(out, brows, c.brow_squeeze * squeeze)
        lean_head(out, c.head_forward * forward, c.head_nearer * forward)
        shake_head(out, yaw)
        return out, captions

    def _shake_phase(self, span: Span, e: np.ndarray) -> np.ndarray:
        """Phase in cycles per frame of `e` (frames where it is 0 do not advance), continuing across chunks."""
        if span not in self._rate:
            frames = max(1, self.units_frames(span.start, span.stop))
            cycles = max(self.config.min_cycles, round(self.config.shake_hz * frames / self.fps))
            self._rate[span] = cycles / frames
        steps = np.cumsum(e > 0) * self._rate[span]
        start = self._phase.get(span, 0.0)
        self._phase[span] = start + float(steps[-1])
        return start + steps - self._rate[span] * (e > 0)


def move_brows(arr: PoseArray, rise: np.ndarray, squeeze: np.ndarray) -> None:
    """Move both brows up by `rise` (T,) eye widths (down if negative); inner ends `squeeze` (T,) toward the nose; in place."""
    if not (rise.any() or squeeze.any()):
        return
    ok, _, across, down = head_axes(arr.xyz, arr.conf)
    unit_across = across / np.maximum(np.linalg.norm(across, axis=1, keepdims=True), 1e-12)
    unit_up = -down / np.maximum(np.linalg.norm(down, axis=1, keepdims=True), 1e-12)
    f = FACE.start
    eye = np.linalg.norm(arr.xyz[:, f + 33, :2] - arr.xyz[:, f + 133, :2], axis=1)
    eye = np.where(eye > 1e-6, eye, 0.23 * np.linalg.norm(across, axis=1))
    for side, inward in (("right", 1.0), ("left", -1.0)):
        upper = list(BROWS[side])
        lower = list(LOWER_BROWS[side])
        # Right brow points run outer -> inner, left inner -> outer: weight 1 at the inner end.
        weights = np.linspace(0.0, 1.0, 5) if side == "right" else np.linspace(1.0, 0.0, 5)
        for line in (upper, lower):
            cols = np.asarray(line) + f
            shift = (rise * eye)[:, None, None] * unit_up[:, None] \
                + (squeeze * eye)[:, None, None] * weights[None, :, None] * inward * unit_across[:, None]
            present = (arr.conf[:, cols] > 0) & ok[:, None]
            arr.xyz[:, cols, :2] += np.where(present[..., None], shift, 0).astype(np.float32)


def lean_head(arr: PoseArray, down: np.ndarray, nearer: np.ndarray) -> None:
    """The head (body head points and face) moved `down` (T,) ear widths and scaled by 1 + `nearer` about its centre; in place."""
    if not (down.any() or nearer.any()):
        return
    ok, _, across, down_axis = head_axes(arr.xyz, arr.conf)
    centre = (arr.xyz[:, LEFT_EAR, :2] + arr.xyz[:, RIGHT_EAR, :2]) / 2
    pts = arr.xyz[:, _HEAD_COLS, :2]
    moved = centre[:, None] + (1 + nearer)[:, None, None] * (pts - centre[:, None]) + (down[:, None] * down_axis)[:, None]
    present = (arr.conf[:, _HEAD_COLS] > 0) & ok[:, None]
    arr.xyz[:, _HEAD_COLS, :2] = np.where(present[..., None], moved, pts).astype(np.float32)


def shake_head(arr: PoseArray, yaw: np.ndarray) -> None:
    """Turn the head and face by `yaw` (T,) radians about the neck's vertical axis; in place.

    The head is taken as a sphere through the ears: a point `dx` ear widths across from the head's
    centre lies sqrt(r^2 - dx^2) in front of the axis (r = half an ear width), so the nose swings
    across while the ears only narrow, as a turning head looks from the front.
    """
    if not yaw.any():
        return
    ok, _, across, down = head_axes(arr.xyz, arr.conf)
    width = np.maximum(np.linalg.norm(across, axis=1), 1e-12)
    ax = across / width[:, None]
    centre = (arr.xyz[:, LEFT_EAR, :2] + arr.xyz[:, RIGHT_EAR, :2]) / 2
    pts = arr.xyz[:, _HEAD_COLS, :2]
    rel = pts - centre[:, None]
    dx = (rel * ax[:, None]).sum(-1)
    r = width / 2
    depth = np.sqrt(np.maximum(r[:, None] ** 2 - dx ** 2, 0.0))
    new_dx = dx * np.cos(yaw)[:, None] + depth * np.sin(yaw)[:, None]
    moved = pts + ((new_dx - dx)[..., None] * ax[:, None])
    present = (arr.conf[:, _HEAD_COLS] > 0) & ok[:, None] & (yaw != 0)[:, None]
    arr.xyz[:, _HEAD_COLS, :2] = np.where(present[..., None], moved, pts).astype(np.float32)
