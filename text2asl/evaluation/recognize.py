"""Nearest-neighbour DTW sign recognition, robust to who signs: the automatic comprehension proxy.

A query sign is "understood" when its nearest reference sign (a real recording) has the same
gloss. Raw keypoints make a poor recogniser across signers: body size, position in the frame,
camera distance, the dominant hand, speed and the rest frames around the sign all change the
coordinates more than the sign itself does. Each of those is removed before matching:

* body size, position, camera distance: shoulder normalisation (centre 0, shoulder width 1);
* handedness: the hand that signs is found (detected and raised most, moving most) and a
  left-dominant signer is mirrored, so the dominant hand is always the signer's right;
* rest frames: frames before the first and after the last raised hand are dropped, and the DTW
  may skip a few more frames at either end for free (`psi`: recordings are cut differently);
* speed: the sign is resampled to a fixed number of frames, then DTW absorbs local timing;
* missing hands (MediaPipe drops fast, blurred or low-resolution hands): hand-shape groups are
  built from the frames where the hand was found only (`seen_only`), not from guesses between;
* hand size and rotation: the dominant hand also enters as joint angles, fingertip distances in
  palm lengths and palm orientation (`handshape`), which two signers share far more than pixels.

Feature groups (x/y only, except the hand descriptors, which use depth): dominant hand shape in
shoulder units, its joint angles, fingertip distances, palm orientation; the wrist's movement
around its median and its location; the other hand's wrist ("other"), its offset from the
dominant wrist ("between") and its joint angles and fingertip distances ("other_shape"); and the
other wrist from the body model ("other_wrist"). Each group has its own DTW (dtaidistance's C
`dtw_ndim`), divided by the group's median distance between reference signs (pairs equal in a
group left out) so the weights, not the units, set each group's share.

Two hands, when a recording lacks one: the hand detector's groups ("other", "between",
"other_shape") count only when both signs show the other hand; when just one does, a fixed
`missing_other` penalty replaces each, lighter than a typical mismatch. "other_wrist" is never
missing: the body model places the wrist in every frame, and a hand below the rest line or out of
the picture sits at one rest point, so a two-handed sign still differs from a one-handed one when
the hand detector lost the second hand. Which hand leads is ambiguous in two-handed signs, so
two-handed queries and references are both also read mirrored and the closest reading counts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from text2asl.gloss_to_pose.lexicon import gloss_key
from text2asl.poses.layout import LEFT_HAND, LEFT_WRIST, RIGHT_HAND, RIGHT_WRIST, PoseArray

# MediaPipe pose landmark pairs (signer's left, signer's right) swapped by `mirror`.
_BODY_PAIRS = ((1, 4), (2, 5), (3, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16), (17, 18),
               (19, 20), (21, 22), (23, 24), (25, 26), (27, 28), (29, 30), (31, 32))
_HAND_SHAPE = ("shape", "angles", "tips", "orient")  # the dominant hand's shape groups
# The groups of the other hand as the hand detector sees it (absent when it does not), and their widths.
_OTHER_HAND = {"other": 2, "between": 2, "other_shape": 19 + 15}


# Chosen on the two cross-signer alphabet directions (embedded alphabet <-> ASL-App letters) and
# synthetic changes of scale, position, speed, handedness and rest frames. Hand-size-free shape
# groups carry most of the weight; where the hand is (location) varies most between signers, so
# it only breaks ties; movement and the other hand matter for words, not letters. Each of the newer
# other-hand groups has the weight of "other"; benchmarks/recognition_ablation.py measures them.
DEFAULT_WEIGHTS = {"shape": 1.0, "angles": 1.0, "tips": 1.0, "orient": 0.5,
                   "movement": 0.5, "location": 0.25, "other": 0.5, "between": 0.5, "other_shape": 0.5,
                   "other_wrist": 0.5}
GROUPS = tuple(DEFAULT_WEIGHTS)


@dataclass(frozen=True)
class FeatureConfig:
    """How signs are turned into per-group (n_frames, F) feature sequences and compared.

    n_frames: every sign is resampled to this length (removes global speed).
    window: Sakoe-Chiba band of the DTW, in frames (limits how far timing may be warped).
    weights: relative weight of each feature group (`GROUPS`, see the module doc); 0 drops one.
    smooth: Gaussian low-pass over time, in source frames, before anything (MediaPipe jitter).
    rest_line: a hand lower than this many shoulder widths below the shoulders is at rest.
    approach: margin for dropping the hand's raising/lowering around the sign (`_trim_approach`).
    mirror: "auto" mirrors left-dominant signers; "both" also tries two-handed queries mirrored;
    "never" keeps the recorded hands.
    missing_other: distance (in units of the group's median) when only one of two signs shows
    the other hand.
    seen_only: hand-shape groups from the frames where that hand was detected only (else
    interpolated over the gaps).
    mirror_references: two-handed references are also read mirrored (with mirror == "both").
    psi: frames at either end of either sign the DTW may skip for free (psi relaxation).
    znorm: standardise each group's distances over the references, per query (`Recognizer.distances`).
    """

    n_frames: int = 32
    window: int = 8
    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    smooth: float = 1.0
    rest_line: float = 1.1
    approach: float = 0.3
    mirror: str = "both"
    missing_other: float = 0.5
    seen_only: bool = True
    mirror_references: bool = True
    psi: int = 4
    znorm: bool = False


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


def _shows_other(ok: np.ndarray) -> bool:
    """The other hand counts as part of the sign when detected in at least a third of its frames."""
    return bool(ok.sum() >= max(2, len(ok) / 3))


def feature_groups(arr: PoseArray, config: FeatureConfig = FeatureConfig(), mirrored: bool | None = None) -> dict[str, np.ndarray]:
    """{group: (config.n_frames, F_group) float64} for one sign (any coordinates; see module doc).

    Groups with weight 0 are left out. The other hand's groups from the hand detector ("other",
    "between", "other_shape") are absent when the sign does not show the other hand. mirrored:
    None mirrors a left-dominant signer (unless config.mirror == "never"); True/False force it.
    """
    from text2asl.evaluation.handshape import descriptors
    from text2asl.poses.filters import smooth, trim_rest
    from text2asl.poses.normalize import normalize

    width = arr.size[0] if arr.size else None
    norm = normalize(arr)
    if config.smooth > 0:
        norm = smooth(norm, config.smooth)
    if mirrored is None:
        mirrored = config.mirror != "never" and is_left_dominant(norm, config.rest_line)
    if mirrored:
        norm = mirror(norm)
    norm = trim_rest(norm, config.rest_line)
    norm = _trim_approach(norm, config.approach)
    xy, conf = norm.xyz[..., :2].astype(np.float64), norm.conf
    w = {k: v for k, v in config.weights.items() if v > 0}

    hand_ok = (conf[:, RIGHT_HAND] > 0).all(axis=1)
    hand = xy[:, RIGHT_HAND]
    # The hand's own wrist is more precise than the body model's; the body's exists in every frame.
    position = np.where(hand_ok[:, None], hand[:, 0], xy[:, RIGHT_WRIST])
    groups = {"movement": position - np.median(position, axis=0), "location": position,
              # Shoulder units, not palm lengths: 2-D palm length breaks on foreshortened palms.
              "shape": (hand[:, 1:] - hand[:, :1]).reshape(len(norm), -1)}
    if {"angles", "tips", "orient"} & set(w):
        groups.update(descriptors(norm.xyz[:, RIGHT_HAND], hand_ok, width))
    other_ok = (conf[:, LEFT_HAND] > 0).all(axis=1)
    shows_other = _shows_other(other_ok)
    # The other hand's path from the body model, which places the wrists also where the hand
    # detector loses a hand. A hand below the rest line, or out of the picture (recordings that
    # crop the resting arm), sits at one rest point: the group is never missing.
    raised = (conf[:, LEFT_WRIST] > 0) & (xy[:, LEFT_WRIST, 1] < config.rest_line)
    rest = np.array([0.5, config.rest_line])  # under the other shoulder (the left one is at x = +0.5)
    groups["other_wrist"] = np.where(raised[:, None], xy[:, LEFT_WRIST], rest)
    if shows_other:
        groups["other"] = _interpolate(xy[:, LEFT_HAND.start], other_ok)
        other_position = np.where(other_ok[:, None], xy[:, LEFT_HAND.start], xy[:, LEFT_WRIST])
        groups["between"] = other_position - position
        if "other_shape" in w:
            other = descriptors(norm.xyz[:, LEFT_HAND], other_ok, width)
            groups["other_shape"] = np.concatenate([other["angles"], other["tips"]], axis=1)
    seen = {g: hand_ok for g in _HAND_SHAPE} | {"other_shape": other_ok}
    out = {}
    for g in w:
        if g not in groups:
            continue
        values = groups[g]
        if g in seen:
            ok = seen[g]
            if not ok.any():
                values = np.zeros_like(values)
            elif config.seen_only:  # only the frames where the hand was found: no guessed shapes
                values = values[ok]
            else:
                values = _interpolate(values, ok)
        out[g] = np.ascontiguousarray(_resample_rows(values, config.n_frames))
    return out


def features(arr: PoseArray, config: FeatureConfig = FeatureConfig(), mirrored: bool | None = None) -> np.ndarray:
    """(config.n_frames, F) float64: the weighted groups side by side (for plots and inspection).

    The recogniser itself compares groups separately (`Recognizer`); here each group is scaled by
    weight / sqrt(its width), and a missing other hand is a zero block, so F is fixed per config.
    """
    groups = feature_groups(arr, config, mirrored)
    blocks = []
    for g, wt in config.weights.items():
        if wt <= 0:
            continue
        v = groups.get(g, np.zeros((config.n_frames, _OTHER_HAND.get(g, 2))))
        blocks.append(v * (wt / np.sqrt(v.shape[1])))
    return np.concatenate(blocks, axis=1)


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


class Recognizer:
    """Nearest-neighbour recogniser over reference signs [(gloss, PoseArray), ...].

    `naive=True` builds the baseline the module doc argues against (raw pixels, no trimming, no
    resampling, no mirroring), to report alongside.
    """

    def __init__(self, references: Sequence[tuple[str, PoseArray]], config: FeatureConfig = FeatureConfig(), naive: bool = False):
        self.config, self.naive = config, naive
        self.glosses, self.templates, self.variants = [], [], []
        for gloss, arr in references:  # one sign at a time: `from_lexicon` loads them lazily
            self.glosses.append(gloss)
            self.templates.append(self.featurize(arr))
            # A two-handed reference may be read with either hand leading (see `distances`).
            self.variants.append(self._readings(arr, self.templates[-1]))
        if not self.templates:
            raise ValueError("the recogniser needs at least one reference sign")
        self.scales = {} if naive else self._group_scales()

    def featurize(self, arr: PoseArray):
        """Naive: (T, 150) array; robust: {group: (n_frames, F)} (`feature_groups`)."""
        return naive_features(arr) if self.naive else feature_groups(arr, self.config)

    def _group_scales(self, max_pairs: int = 300) -> dict[str, float]:
        """Median DTW distance between reference signs, per group: the group's typical mismatch."""
        from dtaidistance import dtw_ndim

        n, scales = len(self.templates), {}
        total = n * (n - 1) // 2
        if total > max_pairs:  # a fixed sample: the same references always give the same scales
            pairs = _nth_pairs(n, np.random.default_rng(0).choice(total, max_pairs, replace=False))
        else:
            pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        for g, wt in self.config.weights.items():
            d = [dtw_ndim.distance_fast(self.templates[i][g], self.templates[j][g], window=self.config.window, psi=self.config.psi)
                 for i, j in pairs if wt > 0 and g in self.templates[i] and g in self.templates[j]]
            # Pairs that are equal in a group (two resting other hands) say nothing of its spread.
            d = [x for x in d if x > 1e-9]
            scale = float(np.median(d)) if d else 0.0
            scales[g] = scale if scale > 1e-9 else 1.0
        return scales

    def _group_distances(self, q: dict, t: dict) -> np.ndarray:
        """(weighted groups,) DTW distance per group in units of its median; nan where one sign lacks the group."""
        from dtaidistance import dtw_ndim

        out = []
        for g, wt in self.config.weights.items():
            if wt <= 0:
                continue
            if g in q and g in t:
                out.append(dtw_ndim.distance_fast(q[g], t[g], window=self.config.window, psi=self.config.psi) / self.scales[g])
            else:  # only the other hand's groups can be absent: nan when one sign shows it, 0 when neither
                out.append(np.nan if g in q or g in t else 0.0)
        return np.array(out)

    def _weights(self) -> np.ndarray:
        return np.array([wt for wt in self.config.weights.values() if wt > 0])

    def _distance(self, d: np.ndarray) -> float:
        """Weighted sum of one pair's group distances, `missing_other` standing in for a missing group."""
        return float(self._weights() @ np.where(np.isnan(d), self.config.missing_other, d))

    def distances(self, query: PoseArray) -> np.ndarray:
        """(n_references,) distance of the query to every reference sign (weighted sum of group DTWs).

        With `config.znorm`, each group's distances are first standardised over the references
        (median 0, median absolute deviation 1) for this query, and a missing group counts 0.
        """
        from dtaidistance import dtw_ndim

        if self.naive:
            q = naive_features(query)
            return np.array([dtw_ndim.distance_fast(q, t) for t in self.templates])
        variants = [feature_groups(query, self.config)]
        if self.config.mirror == "both" and _two_handed(query):
            # Which hand leads is ambiguous in two-handed signs (and detection of one hand is often
            # spotty): the query is also tried mirrored and the closer reading counts.
            variants = [feature_groups(query, self.config, mirrored=m) for m in (False, True)]
        # Per reference, the group distances of the closest reading of query and reference.
        table = np.array([min((self._group_distances(q, t) for q in variants for t in ts), key=self._distance)
                          for ts in self.variants])
        if not self.config.znorm:
            return np.array([self._distance(row) for row in table])
        z = np.zeros_like(table)
        for k, column in enumerate(table.T):
            ok = ~np.isnan(column)
            if ok.any():
                centre = np.median(column[ok])
                spread = np.median(np.abs(column[ok] - centre))
                z[ok, k] = (column[ok] - centre) / (spread if spread > 1e-9 else 1.0)
        return z @ self._weights()

    def _readings(self, arr: PoseArray, template) -> list:
        """The reference's feature groups as recorded, plus mirrored when it is two-handed and
        `config.mirror_references` is set (the lexicon signer's leading hand is as ambiguous as the query's)."""
        if self.naive or not self.config.mirror_references or self.config.mirror != "both" or not _two_handed(arr):
            return [template]
        return [feature_groups(arr, self.config, mirrored=m) for m in (False, True)]

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
        return cls(((e.gloss, lex.load(e)) for e in lex.entries), config, naive)


def _nth_pairs(n: int, ks: np.ndarray) -> list[tuple[int, int]]:
    """The pairs (i, j), i < j < n, at positions `ks` of their row-major list, without building the list (n² pairs)."""
    starts = np.cumsum([0] + [n - 1 - i for i in range(n - 1)])  # position of (i, i + 1)
    rows = np.searchsorted(starts, ks, side="right") - 1
    return [(int(i), int(i + 1 + k - starts[i])) for i, k in zip(rows, ks)]


def top_k_accuracy(matches: Sequence[Match], truths: Sequence[str], k: int) -> float:
    """Share of queries whose true gloss is among the first k (queries whose gloss is absent count as misses)."""
    if not matches:
        return float("nan")
    hits = [(m.rank_of(t) or k + 1) <= k for m, t in zip(matches, truths)]
    return float(np.mean(hits))
