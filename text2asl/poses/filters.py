"""Time-domain clean-up of pose sequences: gap filling, lost hands carried, low-pass smoothing, resampling, rest trimming.

Shared by the lexicon stitcher, the extraction preprocessing and the evaluation, so a sign is
cleaned the same way wherever it comes from. Written on numpy alone (a few lines each) so the
translate path does not pay scipy's import time.
"""
from __future__ import annotations

import math

import numpy as np

from text2asl.poses.layout import (BODY, COMPONENTS, FACE, LEFT_HAND, LEFT_HAND_BODY, RIGHT_HAND, RIGHT_HAND_BODY,
                                   PoseArray)

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


# A detected hand whose wrist lies farther than this (shoulder widths) from the body model's wrist of
# its arm is the other hand or a false detection: on the asl-app lexicon 99 % of the hands' wrists
# are within 0.15 of it (median 0.08), and the 2.4 % beyond 0.3 are mostly swaps, 0.6-2.4 away.
HAND_WRIST_MAX = 0.3


def carry_hands(arr: PoseArray, rest_line: float = 1.1) -> PoseArray:
    """A hand lost (or detected far from its arm) while the body model tracks its wrist signing above
    `rest_line`: the nearest good hand, moved with the wrist.

    For runs `fill_gaps` leaves open: at a sign's start or end, or longer than its limit (the
    asl-app WANT has no left hand for its first 26 frames while both wrists sign in front of the
    chest, then one frame with the hands swapped; stitched, that hand vanished and came back
    mid-sentence). The hand keeps the shape and offset from the wrist of its nearest good frame,
    translated with the body's wrist, and that frame's confidences. A resting wrist (below
    `rest_line`) is left as it is: a signing handshape carried down to the hip looks wrong, and
    rest.rest_arms hangs a relaxed hand there. So is a hand never detected near its wrist in the sign.
    """
    out = arr
    for hand, wrist in ((LEFT_HAND, LEFT_HAND_BODY[0]), (RIGHT_HAND, RIGHT_HAND_BODY[0])):
        tracked = arr.conf[:, wrist] > 0
        signing = tracked & (arr.xyz[:, wrist, 1] <= rest_line)
        present = (arr.conf[:, hand] > 0).any(axis=1)
        near = np.linalg.norm(arr.xyz[:, hand.start, :2] - arr.xyz[:, wrist, :2], axis=1) <= HAND_WRIST_MAX
        seen = np.flatnonzero(tracked & present & near)
        lost = np.flatnonzero(signing & ~(present & near))
        if not seen.size or not lost.size:
            continue
        i = np.searchsorted(seen, lost)
        before, after = seen[np.maximum(i - 1, 0)], seen[np.minimum(i, len(seen) - 1)]
        source = np.where(np.abs(lost - before) <= np.abs(after - lost), before, after)
        if out is arr:
            out = arr.copy()
        shift = arr.xyz[lost, wrist] - arr.xyz[source, wrist]
        out.xyz[lost, hand] = arr.xyz[source, hand] + shift[:, None, :]
        out.conf[lost, hand] = arr.conf[source, hand]
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
