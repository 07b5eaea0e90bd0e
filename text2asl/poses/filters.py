"""Time-domain clean-up of pose sequences: gap filling, low-pass smoothing, resampling, rest trimming.

Shared by the lexicon stitcher, the extraction preprocessing and the evaluation, so a sign is
cleaned the same way wherever it comes from. Written on numpy alone (a few lines each) so the
translate path does not pay scipy's import time.
"""
from __future__ import annotations

import math

import numpy as np

from text2asl.poses.layout import BODY, COMPONENTS, FACE, LEFT_HAND, RIGHT_HAND, PoseArray

_GROUPS = (BODY, FACE, LEFT_HAND, RIGHT_HAND)
assert len(_GROUPS) == len(COMPONENTS)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) runs where a 1-D bool mask is True."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2], edges[1::2]))


def fill_gaps(arr: PoseArray, max_gap_frames: int = 8) -> PoseArray:
    """Linearly interpolate short runs where a whole component (e.g. a hand) was not detected.

    Only gaps with detections on both sides and at most `max_gap_frames` long are filled: a hand
    that leaves the frame for a second stays missing. Filled points get the lower of the two
    neighbouring confidences.
    """
    out = arr.copy()
    for group in _GROUPS:
        present = (arr.conf[:, group] > 0).any(axis=1)
        for start, stop in _runs(~present):
            if start == 0 or stop == len(arr) or stop - start > max_gap_frames:
                continue
            a, b = start - 1, stop
            w = ((np.arange(start, stop) - a) / (b - a))[:, None, None].astype(np.float32)
            out.xyz[start:stop, group] = (1 - w) * arr.xyz[a, group] + w * arr.xyz[b, group]
            both = (arr.conf[a, group] > 0) & (arr.conf[b, group] > 0)
            out.conf[start:stop, group] = np.where(both, np.minimum(arr.conf[a, group], arr.conf[b, group]), 0)
    return out


def smooth(arr: PoseArray, sigma_frames: float = 1.0, face: bool = False) -> PoseArray:
    """Gaussian low-pass over time for body and hands (face too only if `face`), ignoring missing points.

    A normalised convolution: missing frames get no weight, so a dropout does not pull the
    neighbouring frames towards zero; missing points stay missing.
    """
    if sigma_frames <= 0 or len(arr) < 3:
        return arr.copy()
    radius = max(1, int(math.ceil(3 * sigma_frames)))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_frames) ** 2).astype(np.float32)
    cols = np.ones(arr.xyz.shape[1], bool)
    if not face:
        cols[FACE] = False
    x = arr.xyz[:, cols]
    w = (arr.conf[:, cols] > 0).astype(np.float32)
    xp = np.pad(x * w[..., None], ((radius, radius), (0, 0), (0, 0)), mode="edge")
    wp = np.pad(w, ((radius, radius), (0, 0)), mode="edge")
    num = np.zeros_like(x)
    den = np.zeros_like(w)
    t = len(arr)
    for k, kv in enumerate(kernel):
        num += kv * xp[k : k + t]
        den += kv * wp[k : k + t]
    out = arr.copy()
    ok = w > 0
    out.xyz[:, cols] = np.where(ok[..., None], num / np.maximum(den, 1e-6)[..., None], x)
    return out


def resample(arr: PoseArray, fps: float, n_frames: int | None = None) -> PoseArray:
    """Linear resampling in time to `fps`, or to exactly `n_frames` frames (played at `fps`: a time stretch).

    A point is present in an output frame only if it is present in both source frames around it.
    """
    t = len(arr)
    n = n_frames if n_frames is not None else max(1, int(round(t * fps / arr.fps)))
    if n == t and fps == arr.fps:
        return arr.copy()
    pos = np.linspace(0, t - 1, n) if n > 1 else np.zeros(1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, t - 1)
    w = (pos - lo)[:, None, None].astype(np.float32)
    xyz = (1 - w) * arr.xyz[lo] + w * arr.xyz[hi]
    conf = np.where((arr.conf[lo] > 0) & (arr.conf[hi] > 0), np.minimum(arr.conf[lo], arr.conf[hi]), 0)
    return PoseArray(xyz.astype(np.float32), conf.astype(np.float32), fps, arr.size, dict(arr.meta))


def active_frames(arr: PoseArray, rest_line: float = 1.1) -> np.ndarray:
    """(T,) bool: frames where a detected hand is above the rest line (signing, not resting).

    Works on normalised sequences (shoulder width 1, y down); the rest line is `rest_line`
    shoulder widths below the shoulders, about where hands hang or lie in the lap.
    """
    active = np.zeros(len(arr), bool)
    for hand in (LEFT_HAND, RIGHT_HAND):
        present = (arr.conf[:, hand] > 0).any(axis=1)
        ys = np.where(arr.conf[:, hand] > 0, arr.xyz[:, hand, 1], np.inf).min(axis=1)
        active |= present & (ys < rest_line)
    return active


def trim_rest(arr: PoseArray, rest_line: float = 1.1, pad_frames: int = 1) -> PoseArray:
    """Drop rest frames (no hand up) at the start and end of a normalised sign; keep it all if none is active."""
    active = np.flatnonzero(active_frames(arr, rest_line))
    if len(active) == 0:
        return arr
    start = max(0, active[0] - pad_frames)
    stop = min(len(arr), active[-1] + 1 + pad_frames)
    return arr.slice(start, stop)


def joint_speed(arr: PoseArray, face: bool = False) -> np.ndarray:
    """(T-1,) largest per-frame displacement of any joint present in both frames (body + hands by default)."""
    cols = np.ones(arr.xyz.shape[1], bool)
    if not face:
        cols[FACE] = False
    if len(arr) < 2:
        return np.zeros(0, np.float32)
    d = np.linalg.norm(np.diff(arr.xyz[:, cols, :2], axis=0), axis=-1)
    both = (arr.conf[1:, cols] > 0) & (arr.conf[:-1, cols] > 0)
    return np.where(both, d, 0).max(axis=1)
