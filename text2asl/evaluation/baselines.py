"""Reference points for every evaluation table: baselines a real system must beat, and controlled copies.

* `static_mean_pose`: the average normalised pose of a training set, held still for the length
  of the reference: what a "system" that knows the signing space but no sign scores (lower bound).
* `other_signer`: the same gloss recorded by another signer: the real upper bound, since two
  correct signings differ by this much.
* `different_gloss`: a real sign of another gloss: what a confidently wrong system scores.
* `perturbed` and `retimed`: the reference with known damage (joint noise and dropped hands; a
  different speed), so a table shows how each metric reacts to shape errors versus timing.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from text2asl.poses.layout import LEFT_HAND, N_POINTS, RIGHT_HAND, PoseArray


def static_mean_pose(signs: Sequence[PoseArray], n_frames: int, fps: float = 25.0) -> PoseArray:
    """(n_frames, 543) still pose: per point, the mean over every detected frame of the normalised `signs`.

    A point never detected in any sign stays missing (conf 0).
    """
    from text2asl.poses.normalize import normalize

    if not signs:
        raise ValueError("the static mean pose needs at least one sign")
    total = np.zeros((N_POINTS, 3), np.float64)
    count = np.zeros(N_POINTS, np.float64)
    for arr in signs:
        norm = normalize(arr)
        ok = norm.conf > 0
        total += np.where(ok[..., None], norm.xyz, 0.0).sum(axis=0)
        count += ok.sum(axis=0)
    mean = (total / np.maximum(count, 1)[:, None]).astype(np.float32)
    conf = (count > 0).astype(np.float32)
    out = PoseArray(np.repeat(mean[None], n_frames, 0), np.repeat(conf[None], n_frames, 0), fps)
    out.meta["normalized"] = True
    return out


def other_signer(gloss: str, lexicon) -> PoseArray | None:
    """The best-priority recording of `gloss` in `lexicon` (a `Lexicon` of another signer), or None."""
    entries = lexicon.find(gloss)
    return lexicon.load(entries[0]) if entries else None


def different_gloss(gloss: str, candidates: Sequence[tuple[str, PoseArray]]) -> tuple[str, PoseArray]:
    """The next sign after `gloss` (in the candidates' sorted order, wrapping) that has another gloss."""
    ordered = sorted(candidates, key=lambda c: c[0])
    names = [g for g, _ in ordered]
    start = names.index(gloss) if gloss in names else -1
    for step in range(1, len(ordered) + 1):
        g, arr = ordered[(start + step) % len(ordered)]
        if g != gloss:
            return g, arr
    raise ValueError("different_gloss needs a candidate with another gloss")


def perturbed(arr: PoseArray, noise: float = 0.05, hand_dropout: float = 0.1, seed: int = 0) -> PoseArray:
    """A copy with Gaussian joint noise (`noise` shoulder widths, in x/y) and hands dropped in some frames.

    The noise is scaled by the sequence's own shoulder width so the damage is the same in any
    coordinates; `hand_dropout` is the share of frames where each hand goes missing (conf 0).
    """
    from text2asl.poses.normalize import shoulder_frame

    rng = np.random.default_rng(seed)
    out = arr.copy()
    _, width = shoulder_frame(arr)
    out.xyz[..., :2] += rng.normal(0.0, noise * width, out.xyz[..., :2].shape).astype(np.float32)
    for hand in (LEFT_HAND, RIGHT_HAND):
        drop = rng.random(len(arr)) < hand_dropout
        out.conf[drop, hand] = 0.0
    out.xyz[out.conf <= 0] = 0.0
    return out


def retimed(arr: PoseArray, factor: float = 1.5) -> PoseArray:
    """The same sign played `factor` times longer (linear resampling to round(T * factor) frames, same fps)."""
    from text2asl.poses.filters import resample

    if factor <= 0:
        raise ValueError("the retiming factor must be positive")
    return resample(arr, arr.fps, n_frames=max(1, int(round(len(arr) * factor))))
