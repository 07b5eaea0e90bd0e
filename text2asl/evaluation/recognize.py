"""Nearest-neighbour DTW sign recognition, robust to who signs: the automatic comprehension proxy.

A query sign is "understood" when its nearest reference sign (a real recording) has the same
gloss. Raw keypoints make a poor recogniser across signers: body size, position in the frame,
camera distance, the dominant hand, speed and the rest frames around the sign all change the
coordinates more than the sign itself does. Each of those is removed before matching:

* body size, position, camera distance: shoulder normalisation (centre 0, shoulder width 1);
* handedness: the hand that signs is found (detected and raised most, moving most) and a
  left-dominant signer is mirrored, so the dominant hand is always the signer's right;
* rest frames: frames before the first and after the last raised hand are dropped;
* speed: the sign is resampled to a fixed number of frames, then DTW absorbs local timing;
* missing hands (MediaPipe drops fast or blurred hands): hand features are interpolated over
  time from the frames where the hand was found;
* hand size: hand shapes are taken relative to the wrist and scaled by the palm length.

Frame features (all x/y, MediaPipe's z is exporter-specific): dominant wrist position and its
elbow, dominant hand shape (20 points), the other wrist. Feature groups are weighted so each
contributes comparably. The matching itself is dtaidistance's C DTW (`dtw_ndim`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from text2asl.poses.layout import LEFT_HAND, RIGHT_HAND, PoseArray

# MediaPipe pose landmark pairs (signer's left, signer's right) swapped by `mirror`.
_BODY_PAIRS = ((1, 4), (2, 5), (3, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16), (17, 18),
               (19, 20), (21, 22), (23, 24), (25, 26), (27, 28), (29, 30), (31, 32))
_R_ELBOW, _R_WRIST, _L_ELBOW, _L_WRIST = 14, 16, 13, 15


# Measured cross-signer (embedded alphabet vs ASL-App letters, real videos vs ASL-App): absolute
# location hurts (signers fingerspell at different heights and distances from the body), so the
# dominant hand enters as its movement around its median position plus its shape.
DEFAULT_WEIGHTS = {"movement": 1.0, "location": 0.0, "elbow": 0.0, "shape": 1.0, "other": 0.5}


@dataclass(frozen=True)
class FeatureConfig:
    """How signs are turned into (n_frames, F) feature sequences and compared.

    n_frames: every sign is resampled to this length (removes global speed).
    window: Sakoe-Chiba band of the DTW, in frames (limits how far timing may be warped).
    weights: relative weight of the feature groups: dominant wrist movement (around its median),
    its absolute location, its elbow, its hand shape, the other hand's position.
    hand_scale: "shoulder" (hand shapes in shoulder widths) or "extent" (in the hand's own reach).
    rest_line: a hand lower than this many shoulder widths below the shoulders is at rest.
    approach: margin for dropping the hand's raising/lowering around the sign (`_trim_approach`).
    mirror: "auto" mirrors left-dominant signers; "both" also tries two-handed queries mirrored;
    "never" keeps the recorded hands.
    """

    n_frames: int = 32
    window: int = 8
    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    hand_scale: str = "shoulder"
    rest_line: float = 1.1
    approach: float = 0.3
    mirror: str = "both"


def mirror(arr: PoseArray) -> PoseArray:
    """The sign as a mirror-image signer would make it: x negated (normalised input), left/right swapped.

    Body and hand points are re-indexed; face points are only reflected (their mesh indices are not).
    """
    out = arr.copy()
    out.xyz[..., 0] = -out.xyz[..., 0]
    for a, b in _BODY_PAIRS:
        out.xyz[:, [a, b]] = out.xyz[:, [b, a]]
        out.conf[:, [a, b]] = out.conf[:, [b, a]]
    left, right = out.xyz[:, LEFT_HAND].copy(), out.conf[:, LEFT_HAND].copy()
    out.xyz[:, LEFT_HAND], out.conf[:, LEFT_HAND] = out.xyz[:, RIGHT_HAND], out.conf[:, RIGHT_HAND]
    out.xyz[:, RIGHT_HAND], out.conf[:, RIGHT_HAND] = left, right
    return out


def _hand_activity(arr: PoseArray, hand: slice, rest_line: float) -> float:
    """How much a hand signs: frames where it is detected above the rest line, plus its travel (normalised input)."""
    ok = (arr.conf[:, hand] > 0).all(axis=1) & (arr.xyz[:, hand, 1].min(axis=1) < rest_line)
    wrist = arr.xyz[ok, hand.start, :2]
    travel = float(np.linalg.norm(np.diff(wrist, axis=0), axis=1).sum()) if len(wrist) > 1 else 0.0
    return float(ok.sum()) / max(1, len(arr)) + travel


def is_left_dominant(arr: PoseArray, rest_line: float = 1.1) -> bool:
    """True when the signer's left hand does more of the signing than the right (normalised input)."""
    return _hand_activity(arr, LEFT_HAND, rest_line) > 1.2 * _hand_activity(arr, RIGHT_HAND, rest_line)


def _trim_approach(arr: PoseArray, margin: float) -> PoseArray:
    """Drop the raising of the dominant hand before the sign and its lowering after it (normalised input).

    Video clips show the hand travelling up from the lap and back; lexicon recordings are often cut
    to the sign itself. Frames at either end where the dominant hand is more than `margin` shoulder
    widths below its median height while signing (or not detected) are dropped.
    """
    ok = (arr.conf[:, RIGHT_HAND] > 0).all(axis=1)
    if margin <= 0 or ok.sum() < 3:
        return arr
    y = arr.xyz[:, RIGHT_HAND.start, 1]
    core = np.flatnonzero(ok & (y <= np.median(y[ok]) + margin))
    return arr.slice(int(core[0]), int(core[-1]) + 1) if len(core) >= 3 else arr


def _two_handed(arr: PoseArray) -> bool:
    """Both hands detected together in at least a third of the frames where either is."""
    left, right = (arr.conf[:, LEFT_HAND] > 0).all(axis=1), (arr.conf[:, RIGHT_HAND] > 0).all(axis=1)
    return bool((left & right).sum() >= max(3, (left | right).sum() / 3))


def _interpolate(values: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Fill rows where `ok` is False by linear interpolation in time (edges held). values (T, D)."""
    if ok.all() or not ok.any():
        return values
    t = np.arange(len(values))
    return np.stack([np.interp(t, t[ok], values[ok, d]) for d in range(values.shape[1])], axis=1)


def _resample_rows(values: np.ndarray, n: int) -> np.ndarray:
    t = len(values)
    pos = np.linspace(0, t - 1, n) if t > 1 else np.zeros(n)
    return np.stack([np.interp(pos, np.arange(t), values[:, d]) for d in range(values.shape[1])], axis=1)


def features(arr: PoseArray, config: FeatureConfig = FeatureConfig(), mirrored: bool | None = None) -> np.ndarray:
    """(config.n_frames, F) float64 frame features of one sign (any coordinates; see module doc).

    mirrored: None mirrors a left-dominant signer (unless config.mirror == "never"); True/False force it.
    """
    from text2asl.poses.filters import trim_rest
    from text2asl.poses.normalize import normalize

    norm = normalize(arr)
    if mirrored is None:
        mirrored = config.mirror != "never" and is_left_dominant(norm, config.rest_line)
    if mirrored:
        norm = mirror(norm)
    norm = trim_rest(norm, config.rest_line)
    norm = _trim_approach(norm, config.approach)
    xy, conf = norm.xyz[..., :2].astype(np.float64), norm.conf

    hand_ok = (conf[:, RIGHT_HAND] > 0).all(axis=1)
    hand = xy[:, RIGHT_HAND]
    body_wrist = xy[:, _R_WRIST]
    # The hand's own wrist is more precise than the body model's; the body's exists in every frame.
    position = np.where(hand_ok[:, None], hand[:, 0], body_wrist)
    elbow = _interpolate(xy[:, _R_ELBOW], conf[:, _R_ELBOW] > 0)
    rel = hand[:, 1:] - hand[:, :1]
    # Shapes stay in shoulder units by default: scaling by the palm length in 2-D breaks on
    # foreshortened palms (a hand facing the camera edge-on looks tiny); "extent" scales by the
    # hand's 90th-percentile reach over the sign instead.
    if config.hand_scale == "extent":
        ext = np.linalg.norm(rel[hand_ok], axis=-1).max(axis=-1)
        rel = rel / (np.percentile(ext, 90) if len(ext) else 1.0)
    shape = rel.reshape(len(norm), -1)
    shape = _interpolate(shape, hand_ok) if hand_ok.any() else np.zeros_like(shape)
    # The other hand is mostly missed when it rests out of frame (the body model then guesses its
    # wrist, often absurdly): an undetected other hand is put at a fixed rest point.
    other_ok = (conf[:, LEFT_HAND] > 0).all(axis=1)
    other = np.where(other_ok[:, None], xy[:, LEFT_HAND.start], np.array([0.5, config.rest_line + 0.5]))
    movement = position - np.median(position, axis=0)

    w = config.weights
    # Each group is scaled by 1/sqrt(dims) so its weight, not its size, sets its share of the distance.
    groups = [(movement, w["movement"]), (position, w["location"]), (elbow, w["elbow"]), (shape, w["shape"]), (other, w["other"])]
    feats = np.concatenate([g * (wt / np.sqrt(g.shape[1])) for g, wt in groups if wt > 0], axis=1)
    return _resample_rows(feats, config.n_frames)


def naive_features(arr: PoseArray) -> np.ndarray:
    """(T, 150) the baseline's features: raw pixel x/y of upper body and hands, missing points at 0."""
    from text2asl.evaluation.dtw import point_indices

    idx = point_indices(face=False)
    xy = np.where(arr.conf[:, idx, None] > 0, arr.xyz[:, idx, :2], 0.0).astype(np.float64)
    return xy.reshape(len(arr), -1)


@dataclass
class Match:
    """The ranking for one query: glosses best first with their DTW distances (one per gloss)."""

    glosses: list[str]
    distances: list[float]

    def rank_of(self, gloss: str) -> int | None:
        """1-based rank of `gloss`, or None when the reference set lacks it."""
        key = gloss_key(gloss)
        for r, g in enumerate(self.glosses, start=1):
            if gloss_key(g) == key:
                return r
        return None


def gloss_key(text: str) -> str:
    """Comparable gloss: upper case, '-'/'_' as spaces (THANK-YOU == thank you)."""
    return " ".join(re.sub(r"[-_]+", " ", text.upper()).split())


class Recognizer:
    """Nearest-neighbour recogniser over reference signs [(gloss, PoseArray), ...].

    `naive=True` builds the baseline the module doc argues against (raw pixels, no trimming, no
    resampling, no mirroring), to report alongside.
    """

    def __init__(self, references: Sequence[tuple[str, PoseArray]], config: FeatureConfig = FeatureConfig(), naive: bool = False):
        if not references:
            raise ValueError("the recogniser needs at least one reference sign")
        self.config, self.naive = config, naive
        self.glosses = [g for g, _ in references]
        self.templates = [self.featurize(a) for _, a in references]

    def featurize(self, arr: PoseArray) -> np.ndarray:
        return naive_features(arr) if self.naive else features(arr, self.config)

    def distances(self, query: PoseArray) -> np.ndarray:
        """(n_references,) DTW distance of the query to every reference sign."""
        from dtaidistance import dtw_ndim

        if self.naive:
            q = naive_features(query)
            return np.array([dtw_ndim.distance_fast(q, t) for t in self.templates])
        w = self.config.window
        variants = [features(query, self.config)]
        if self.config.mirror == "both" and _two_handed(query):
            # Which hand leads is ambiguous in two-handed signs (and detection of one hand is often
            # spotty): the query is also tried mirrored and the closer reading counts.
            variants = [features(query, self.config, mirrored=False), features(query, self.config, mirrored=True)]
        return np.array([min(dtw_ndim.distance_fast(q, t, window=w) for q in variants) for t in self.templates])

    def rank(self, query: PoseArray, k: int | None = None) -> Match:
        """Glosses by increasing distance (each gloss once, at its closest reference); the first k."""
        d = self.distances(query)
        glosses, dists, seen = [], [], set()
        for i in np.argsort(d, kind="stable"):
            key = gloss_key(self.glosses[i])
            if key not in seen:
                seen.add(key)
                glosses.append(self.glosses[i])
                dists.append(float(d[i]))
        return Match(glosses[:k], dists[:k])

    @classmethod
    def from_lexicon(cls, path: str | Path, config: FeatureConfig = FeatureConfig(), naive: bool = False) -> "Recognizer":
        """A recogniser over every sign of a lexicon folder (spoken-to-signed layout)."""
        from text2asl.gloss_to_pose.lexicon import Lexicon

        lex = path if hasattr(path, "entries") else Lexicon(path)
        return cls([(e.gloss, lex.load(e)) for e in lex.entries], config, naive)


def top_k_accuracy(matches: Sequence[Match], truths: Sequence[str], k: int) -> float:
    """Share of queries whose true gloss is among the first k (queries whose gloss is absent count as misses)."""
    if not matches:
        return float("nan")
    hits = [(m.rank_of(t) or k + 1) <= k for m, t in zip(matches, truths)]
    return float(np.mean(hits))
