"""Stitching signs into one fluent sequence: clean each sign, hold letters, join with smooth transitions.

Each sign is shoulder-normalised, gap-filled, retargeted to one signer's body (`poses.retarget`),
resampled to the output fps, trimmed of rest frames, capped in length and low-pass filtered (body
and hands, not the face). Fingerspelled letters are
held for a readable time (>= 0.3 s by default, where spoken-to-signed squeezes a whole word into
0.8 s). Units are joined by ease-in-out transitions whose length is chosen so that no joint moves
faster at a seam than the fastest joint inside the two signs it joins. A unit with a pause (a comma,
a sentence end, a yes/no question: `rhythm`) ends in a hold and, at a sentence end, eases to rest;
`speed` scales signs, transitions and pauses alike.

The stitcher streams: `stream(units)` yields one small chunk per unit, so rendering a 2,000-word
text needs no more memory than a sentence. Prepared clips are cached per lexicon entry.
"""
from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

from text2asl.gloss_to_pose.clipcache import ClipCache
from text2asl.gloss_to_pose.lexicon import Lexicon, LexiconEntry
from text2asl.gloss_to_pose.lookup import Unit
from text2asl.gloss_to_pose.pointing import MIDDLE_MCP
from text2asl.gloss_to_pose.rest import fill_face, rest_arms
from text2asl.gloss_to_pose.rhythm import (check_speed, held, letter_hold_s, pause_frames, rest_frame, rotation,
                                          signed_angle)
from text2asl.poses.filters import carry_hands, fill_gaps, joint_speed, resample, smooth, trim_rest
from text2asl.poses.layout import FACE, LEFT_HAND, RIGHT_HAND, PoseArray
from text2asl.poses.normalize import normalize
from text2asl.poses.retarget import retarget

MOTION_LETTERS = {"J", "Z"}  # letters whose movement is part of the letter
PIECE_LETTERS = 32  # a fingerspelled word streams in pieces of this many letters
CAPTION_CHARS = 24  # a longer word is cut in its captions (it would not fit, and drawing it costs)


@dataclass
class StitchConfig:
    """Timing of the stitched sequence (seconds unless named otherwise)."""

    fps: float = 25.0
    letter_hold_s: float = 0.3  # each fingerspelled letter is held at least this long
    letter_transition_s: float = 0.12  # handshape change between letters
    min_transition_s: float = 0.12
    max_transition_s: float = 1.0
    max_sign_s: float = 2.0  # citation-form signs longer than this (after trimming) are sped up
    smooth_sigma_s: float = 0.04  # Gaussian low-pass on body and hands
    rest_line: float = 1.1  # shoulder widths below the shoulders: hands lower are resting
    trim: bool = True
    speed_margin: float = 0.9  # seams stay this far below the faster sign's top joint speed
    retarget: bool = True  # every sign on one body (poses.retarget.SIGNER), whichever signer recorded it
    speed: float = 1.0  # 2 signs twice as fast, 0.5 at half speed (letters keep `rhythm.MIN_LETTER_HOLD_S`)


def caption_label(label: str) -> str:
    """A unit's label as captions show it: cut after `CAPTION_CHARS` characters."""
    return label if len(label) <= CAPTION_CHARS else label[: CAPTION_CHARS - 3] + "..."


def smoothstep_transition(a_xyz: np.ndarray, a_conf: np.ndarray, b_xyz: np.ndarray, b_conf: np.ndarray, n: int) -> PoseArray:
    """n in-between frames easing from pose a to pose b (both (543, 3)); exclusive of a and b.

    Uses 3s^2 - 2s^3, whose top speed is 1.5x the mean, with zero speed at both ends. A point is
    shown only while present in both poses. Each hand's wrist eases like the body, while the hand
    turns about it (`_turning_hand`): blended point by point, a hand that ends pointing the other
    way (up in a letter, down at rest) would shrink to a dot half-way.
    """
    s = np.arange(1, n + 1, dtype=np.float32) / (n + 1)
    s = s * s * (3 - 2 * s)
    xyz = a_xyz[None] + s[:, None, None] * (b_xyz - a_xyz)[None]
    both = (a_conf > 0) & (b_conf > 0)
    for hand in (LEFT_HAND, RIGHT_HAND):
        if both[hand.start] and both[hand.start + MIDDLE_MCP]:
            xyz[:, hand] = _turning_hand(a_xyz[hand], b_xyz[hand], s)
    conf = np.repeat(np.where(both, np.minimum(a_conf, b_conf), 0)[None], n, axis=0)
    return PoseArray(xyz.astype(np.float32), conf.astype(np.float32), 0.0)


def _turning_hand(a: np.ndarray, b: np.ndarray, s: np.ndarray) -> np.ndarray:
    """(len(s), 21, 3) hand points from hand `a` to hand `b` (21, 3) at eased times `s`: the wrist moves
    straight, the hand turns in the image plane by the share `s` of the (shortest) angle between the
    two hands' directions (wrist to middle knuckle), and its shape blends from a's to b's in a turning frame,
    so it keeps its size."""
    turn = signed_angle(a[MIDDLE_MCP, :2] - a[0, :2], b[MIDDLE_MCP, :2] - b[0, :2])
    rel_a, rel_b = a - a[0], b - b[0]
    rel_b[:, :2] = rel_b[:, :2] @ rotation(-turn).T  # b's shape in a's direction
    shape = rel_a[None] + s[:, None, None] * (rel_b - rel_a)[None]
    turned = np.stack([frame[:, :2] @ rotation(float(t) * turn).T for frame, t in zip(shape, s)])
    return np.concatenate([turned, shape[..., 2:]], axis=-1) + (a[0] + s[:, None] * (b[0] - a[0]))[:, None, :]


def seam_distance(a_xyz: np.ndarray, a_conf: np.ndarray, b_xyz: np.ndarray, b_conf: np.ndarray) -> float:
    """Largest 2-D move of a body or hand joint present in both poses."""
    cols = np.ones(len(a_conf), bool)
    cols[FACE] = False
    both = (a_conf > 0) & (b_conf > 0) & cols
    if not both.any():
        return 0.0
    return float(np.linalg.norm((b_xyz - a_xyz)[both, :2], axis=-1).max())


class Stitcher:
    """Turns units (signs, fingerspelled words) into a stream of normalised pose chunks."""

    def __init__(self, config: StitchConfig | None = None, cache_size: int = 512, clips: ClipCache | None = None):
        """`clips`, when given, keeps prepared clips on disk for later runs (`clipcache`); in memory they
        are kept for this stitcher's life either way (the `cache_size` most recent)."""
        self.config = config or StitchConfig()
        check_speed(self.config.speed)
        self._cache: OrderedDict[tuple[str, LexiconEntry], PoseArray] = OrderedDict()
        self._cache_size = cache_size
        self._clips = clips

    def _cached(self, key: tuple[str, LexiconEntry], make) -> PoseArray:
        hit = self._cache.get(key)
        if hit is None:
            if self._clips is not None:
                kind, entry = key
                name = self._clips.key(kind, entry.path, (entry.start_ms, entry.end_ms), self.config)
                hit = self._clips.get_or_make(name, make)
            else:
                hit = make()
            self._cache[key] = hit
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return hit

    def _clean(self, lexicon: Lexicon, entry: LexiconEntry) -> PoseArray:
        c = self.config
        arr = rest_arms(carry_hands(fill_gaps(normalize(lexicon.load(entry))), c.rest_line), c.rest_line)
        if c.retarget:
            arr = retarget(arr)
        arr = fill_face(arr)
        arr = resample(arr, c.fps)
        if c.trim:
            arr = trim_rest(arr, c.rest_line)
        return arr

    def sign_clip(self, lexicon: Lexicon, entry: LexiconEntry) -> PoseArray:
        """A lexicon sign, cleaned, trimmed, capped at `max_sign_s` and smoothed."""

        def make() -> PoseArray:
            c = self.config
            arr = self._clean(lexicon, entry)
            n = max(1, int(round(min(len(arr), int(round(c.max_sign_s * c.fps))) / c.speed)))
            if n != len(arr):
                arr = resample(arr, c.fps, n_frames=n)
            return smooth(arr, c.smooth_sigma_s * c.fps)

        return self._cached(("sign", entry), make)

    def letter_clip(self, lexicon: Lexicon, entry: LexiconEntry) -> PoseArray:
        """A fingerspelled letter: its steadiest frame held still for `letter_hold_s` (J, Z keep their motion)."""

        def make() -> PoseArray:
            c = self.config
            arr = self._clean(lexicon, entry)
            hold = max(1, math.ceil(letter_hold_s(c.letter_hold_s, c.speed) * c.fps - 1e-6))
            if entry.gloss.upper() in MOTION_LETTERS:
                n = min(max(hold, len(arr)), 2 * hold)
                return smooth(resample(arr, c.fps, n_frames=n), c.smooth_sigma_s * c.fps)
            arr = smooth(arr, c.smooth_sigma_s * c.fps)
            # The handshape is fully formed where the dominant hand is steadiest: hold that frame
            # still. A still hold reads better than the recording's drift, and identical frames
            # cost the renderer and the encoder almost nothing.
            hand = RIGHT_HAND if (arr.conf[:, RIGHT_HAND] > 0).sum() >= (arr.conf[:, LEFT_HAND] > 0).sum() else LEFT_HAND
            present = (arr.conf[:-1, hand] > 0) & (arr.conf[1:, hand] > 0)
            step = np.where(present, np.linalg.norm(np.diff(arr.xyz[:, hand, :2], axis=0), axis=-1), 1.0).mean(axis=1)
            width = min(5, len(step))
            best = int(np.argmin(np.convolve(step, np.ones(width), mode="valid"))) + width // 2 if width else 0
            frame = arr.slice(best, best + 1)
            return PoseArray(np.repeat(frame.xyz, hold, axis=0), np.repeat(frame.conf, hold, axis=0), c.fps)

        return self._cached(("letter", entry), make)

    def unit_clip(self, unit: Unit) -> tuple[PoseArray, list[str]]:
        """The unit's frames and per-frame captions (letters joined by handshape transitions)."""
        pieces = list(self.unit_pieces(unit))
        arr = pieces[0][0] if len(pieces) == 1 else PoseArray.concatenate([p for p, _ in pieces])
        arr.fps = self.config.fps
        return arr, [cap for _, caps in pieces for cap in caps]

    def unit_pieces(self, unit: Unit) -> Iterator[tuple[PoseArray, list[str]]]:
        """The unit's frames in pieces of at most `PIECE_LETTERS` letters (a sign is one piece).

        Pieces keep a 5,000-letter word from needing gigabytes: memory stays that of one piece.
        """
        if unit.kind == "sign":
            lex, entry = unit.items[0]
            arr = self.sign_clip(lex, entry)
            yield arr, [caption_label(unit.label)] * len(arr)
            return
        if unit.kind == "built":
            from text2asl.gloss_to_pose.pointing import built_clip

            (lex, entry), fps = unit.items[0], self.config.fps
            arr = self._cached(
                ("built " + unit.label, entry),
                lambda: self._at_speed(rest_arms(built_clip(unit.label, lex, entry, self.letter_clip, fps), self.config.rest_line)))
            yield arr, [caption_label(unit.label)] * len(arr)
            return
        c = self.config
        n_between = max(1, int(round(c.letter_transition_s / c.speed * c.fps)))
        word = caption_label(unit.label)
        parts: list[PoseArray] = []
        captions: list[str] = []
        prev: PoseArray | None = None
        for i, ((lex, entry), letter) in enumerate(zip(unit.items, unit.letters)):
            clip = self.letter_clip(lex, entry)
            if prev is not None:
                parts.append(smoothstep_transition(prev.xyz[-1], prev.conf[-1], clip.xyz[0], clip.conf[0], n_between))
                captions += [f"{word}  {letter}"] * n_between
            parts.append(clip)
            captions += [f"{word}  {letter}"] * len(clip)
            prev = clip
            if (i + 1) % PIECE_LETTERS == 0 or i + 1 == len(unit.items):
                arr = PoseArray.concatenate(parts)
                arr.fps = c.fps
                yield arr, captions
                parts, captions = [], []

    def _at_speed(self, arr: PoseArray) -> PoseArray:
        n = max(1, int(round(len(arr) / self.config.speed)))
        return arr if n == len(arr) else resample(arr, self.config.fps, n_frames=n)

    @staticmethod
    def _ends(pieces: Iterable[tuple[PoseArray, list[str]]]) -> tuple[PoseArray, PoseArray, float]:
        """(first frame, last frame, top joint speed) of a unit, from its pieces one at a time."""
        first = last = None
        top = 0.0
        for piece, _ in pieces:
            if last is not None:
                top = max(top, float(joint_speed(PoseArray.concatenate([last, piece.slice(0, 1)])).max(initial=0)))
            else:
                first = piece.slice(0, 1)
            top = max(top, float(joint_speed(piece).max(initial=0)))
            last = piece.slice(len(piece) - 1, len(piece))
        return first, last, top

    def transition_frames(self, a: PoseArray, b: PoseArray) -> int:
        """How many in-between frames the seam a -> b needs so no joint outruns both signs' own top speed."""
        return self._transition_length(a.slice(len(a) - 1, len(a)), float(joint_speed(a).max(initial=0)),
                                       b.slice(0, 1), float(joint_speed(b).max(initial=0)))

    def _transition_length(self, a_last: PoseArray, a_top: float, b_first: PoseArray, b_top: float) -> int:
        c = self.config
        lo = max(1, int(round(c.min_transition_s / c.speed * c.fps)))
        hi = max(lo, int(round(c.max_transition_s / c.speed * c.fps)))
        dist = seam_distance(a_last.xyz[-1], a_last.conf[-1], b_first.xyz[0], b_first.conf[0])
        top = c.speed_margin * max(a_top, b_top)
        if dist == 0 or top <= 0:
            return lo
        return int(min(hi, max(lo, math.ceil(1.5 * dist / top) - 1)))

    def stream(self, units: Iterable[Unit]) -> Iterator[tuple[PoseArray, list[str]]]:
        """One (chunk, captions) per unit: the transition into the unit, then the unit itself.

        `chunk.meta["transition_frames"]` says how many leading frames are the transition. A word
        longer than `PIECE_LETTERS` letters comes as several chunks; the ones after its first have
        `meta["continued"]` set and no transition. A unit with a pause ends in it: its last chunk's
        `meta["pause"]` names it, `meta["pause_frames"]` counts the trailing frames it adds and
        `meta["hold_frames"]` the first of them, where the last sign is held still.
        """
        prev: tuple[PoseArray, float] | None = None
        prev_label = ""
        for unit in units:
            pieces = self.unit_pieces(unit)
            head = list(itertools.islice(pieces, 2))
            if len(head) == 1:  # the common case: the whole unit is at hand
                first, last, top = self._ends(head)
                pieces = head
            else:  # a long word: a first pass for its ends and top speed, then stream it again
                first, last, top = self._ends(self.unit_pieces(unit))
                pieces = itertools.chain(head, pieces)
            n = 0 if prev is None else self._transition_length(prev[0], prev[1], first, top)
            out = None
            for i, (clip, captions) in enumerate(pieces):
                if i:  # later pieces of a long word: fresh arrays, no transition
                    chunk, caps = clip, captions
                    chunk.meta = {"transition_frames": 0, "label": unit.label, "continued": True}
                else:
                    if prev is None:
                        chunk, caps = clip.copy(), captions
                    else:
                        between = smoothstep_transition(prev[0].xyz[-1], prev[0].conf[-1], first.xyz[0], first.conf[0], n)
                        chunk = PoseArray.concatenate([between, clip])
                        caps = [prev_label] * (n // 2) + [caption_label(unit.label)] * (n - n // 2) + captions
                    chunk.meta = {"transition_frames": n, "label": unit.label}
                chunk.fps = self.config.fps
                if out is not None:
                    yield out
                out = (chunk, caps)
            if unit.pause:
                out, last, top = self._with_pause(out, last, top, unit.pause)
            yield out
            prev, prev_label = (last, top), caption_label(unit.label)

    def _with_pause(self, out: tuple[PoseArray, list[str]], last: PoseArray, top: float,
                    kind: str) -> tuple[tuple[PoseArray, list[str]], PoseArray, float]:
        """The unit's last chunk with its pause appended; the pose the next transition starts from and its
        top speed (0 at rest: the way up is paced by the next sign alone)."""
        c = self.config
        chunk, caps = out
        n_hold, n_rest = pause_frames(kind, c.fps, c.speed)
        parts = [chunk, held(last.xyz[-1], last.conf[-1], n_hold, c.fps)]
        end, end_top = last, top
        if n_rest:
            # at rest a hand the recording lost hangs from its wrist, as in a resting sign (`rest_arms`)
            end, end_top = rest_arms(held(*rest_frame(last.xyz[-1], last.conf[-1]), 1, c.fps), c.rest_line), 0.0
            xyz, conf = end.xyz[0], end.conf[0]
            n_down = self._transition_length(last, top, end, top)
            parts += [smoothstep_transition(last.xyz[-1], last.conf[-1], xyz, conf, n_down), held(xyz, conf, n_rest, c.fps)]
        paused = PoseArray.concatenate(parts)
        paused.fps = c.fps
        added = len(paused) - len(chunk)
        paused.meta = {**chunk.meta, "pause": kind, "pause_frames": added, "hold_frames": n_hold}
        return (paused, caps + [caps[-1]] * added), end, end_top
