"""Hand-shape descriptors that do not change with hand size, camera distance or (mostly) wrist rotation.

Two signers making the same letter hold their hands at different sizes, distances and angles to
the camera, so wrist-relative pixel offsets differ more between them than between two letters.
These descriptors compare what the fingers do instead:

* `joint_angles`: bend at every finger joint and the spread between neighbouring fingers
  (radians; unchanged by size, position and any rotation of the whole hand);
* `tip_distances`: distances between fingertips and from each fingertip to the wrist, in palm
  lengths (unchanged by size, position and rotation);
* `orientation`: which way the palm points and faces (unit vectors), kept apart so it can be
  weighted lower: it tells H from U and P from K, but varies more between signers.

MediaPipe's hand z is in different units depending on the exporter (pixels like x in some .pose
files, the model's raw [0, 1]-scale in others); `depth_scale` finds out which, so 3-D angles are
right in both. Written by hand: pose-format and MediaPipe give landmarks, not hand descriptors.
"""
from __future__ import annotations

import numpy as np

# MediaPipe hand landmarks: 0 wrist; per finger (thumb..pinky) the 4 joints from the base outwards.
FINGERS = ((1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))
TIPS = (4, 8, 12, 16, 20)
_MIDDLE_BASE, _INDEX_BASE, _PINKY_BASE = 9, 5, 17


def depth_scale(hand: np.ndarray, ok: np.ndarray, width: float | None) -> float:
    """Factor that puts hand z in the units of x/y. hand (T, 21, 3) float, ok (T,) bool detected frames.

    MediaPipe gives hand depth "at roughly the scale of x", and x in [0, 1] of the image width. A
    file whose x/y are pixels but whose wrist-relative z stays below 2% of the x/y spread still
    holds the raw z: it is scaled by the image width in pixels (also right after shoulder
    normalisation, which divides x, y and z alike). Without a known width, depth is dropped (0).
    """
    if not ok.any():
        return 0.0
    rel = hand[ok] - hand[ok][:, :1]
    z, xy = float(np.median(np.abs(rel[..., 2]))), float(np.median(np.abs(rel[..., :2])))
    if z >= 0.02 * xy:
        return 1.0
    return float(width) if width else 0.0


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _angle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.arccos(np.clip((_unit(u) * _unit(v)).sum(-1), -1.0, 1.0))


def joint_angles(hand: np.ndarray) -> np.ndarray:
    """(T, 19) float64 radians: 3 bends per finger (15) and 4 spreads between neighbours. hand (T, 21, 3)."""
    out = []
    for finger in FINGERS:
        chain = (0, *finger)
        for a, b, c in zip(chain, chain[1:], chain[2:]):
            out.append(_angle(hand[:, b] - hand[:, a], hand[:, c] - hand[:, b]))
    pointing = [hand[:, f[3]] - hand[:, f[0]] for f in FINGERS]
    out += [_angle(p, q) for p, q in zip(pointing, pointing[1:])]
    return np.stack(out, axis=1)


def palm_length(hand: np.ndarray, ok: np.ndarray) -> float:
    """Median wrist-to-middle-finger-base length over the detected frames (1.0 when none). hand (T, 21, 3)."""
    if not ok.any():
        return 1.0
    length = float(np.median(np.linalg.norm(hand[ok, _MIDDLE_BASE] - hand[ok, 0], axis=-1)))
    return length if length > 1e-9 else 1.0


def tip_distances(hand: np.ndarray, palm: float) -> np.ndarray:
    """(T, 15) float64: the 10 fingertip-to-fingertip and 5 fingertip-to-wrist distances, in palm lengths."""
    pairs = [(a, b) for i, a in enumerate(TIPS) for b in TIPS[i + 1:]] + [(t, 0) for t in TIPS]
    return np.stack([np.linalg.norm(hand[:, a] - hand[:, b], axis=-1) for a, b in pairs], axis=1) / palm


def orientation(hand: np.ndarray) -> np.ndarray:
    """(T, 9) float64: unit vectors wrist->middle base, index base->pinky base, and the palm normal."""
    rel = hand - hand[:, :1]
    up, across = rel[:, _MIDDLE_BASE], rel[:, _PINKY_BASE] - rel[:, _INDEX_BASE]
    return np.concatenate([_unit(up), _unit(across), _unit(np.cross(rel[:, _INDEX_BASE], rel[:, _PINKY_BASE]))], axis=1)


def descriptors(hand: np.ndarray, ok: np.ndarray, width: float | None = None) -> dict[str, np.ndarray]:
    """{"angles" (T, 19), "tips" (T, 15), "orient" (T, 9)} float64 for one hand (T, 21, 3) in any x/y units.

    ok (T,) marks frames where the hand was detected; other frames get meaningless values and are
    expected to be interpolated over by the caller. width: the source image width in pixels (`depth_scale`).
    """
    h = hand.astype(np.float64).copy()
    h[..., 2] *= depth_scale(h, ok, width)
    return {"angles": joint_angles(h), "tips": tip_distances(h, palm_length(h, ok)), "orient": orientation(h)}
