"""Retargeting signs to one body: one head size, one upper-arm and forearm length, hands kept where they were on the body.

Lexicon signs come from different signers (the fingerspelled letters from yet another), so even
after shoulder normalisation (shoulder width 1) each sign keeps its own signer's head size and arms.
`retarget` gives every sign the proportions of one signer, `SIGNER`:

- the head (body points 0-10 and the face mesh) is scaled about the mouth to the signer's head width,
  and the face mesh is pinned to the body's nose, eyes and mouth (`poses.face.align_face`);
- a hand at the face moves with the face, and the pull fades out to nothing before the chest, so
  a hand at the chin stays at the chin and a hand at the chest stays where it is;
- each elbow is re-solved by two-bone inverse kinematics for the signer's upper-arm and forearm
  lengths, bending the way the source elbow bent. The hand of a bent arm stays where it is
  relative to the body, which is what a viewer reads; a straight arm (hanging at rest, reaching,
  pointing) stays straight, so its hand goes where the signer's arm puts it.

A sign's bone lengths are 3-D where the landmarks have depth. MediaPipe's body depth has its own
scale, so a sign's depth is multiplied by the factor that keeps its arm bones most constant in
length over the sign (a real bone does not stretch); flat, 2-D lexicons get 0, and a bone's length
is then its longest usual projection. The arm is solved in the image plane, each bone keeping the
source's foreshortening at the signer's length: MediaPipe's depth is too noisy to place a wrist
by. Face and hand depth are relative to their own root in MediaPipe, so the head and hands move in
the image plane only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from text2asl.poses.face import align_face
from text2asl.poses.layout import (
    FACE, HEAD, LEFT_EAR, LEFT_ELBOW, LEFT_HAND, LEFT_HAND_BODY, LEFT_SHOULDER, LEFT_WRIST, MOUTH_LEFT,
    MOUTH_RIGHT, NOSE, RIGHT_EAR, RIGHT_ELBOW, RIGHT_HAND, RIGHT_HAND_BODY, RIGHT_SHOULDER, RIGHT_WRIST, PoseArray,
)

# (shoulder, elbow, wrist, the hand's body points, the hand component) per arm
ARMS = (
    (LEFT_SHOULDER, LEFT_ELBOW, LEFT_WRIST, LEFT_HAND_BODY, LEFT_HAND),
    (RIGHT_SHOULDER, RIGHT_ELBOW, RIGHT_WRIST, RIGHT_HAND_BODY, RIGHT_HAND),
)
DEPTH_SCALES = np.linspace(0.0, 1.0, 21)  # candidate factors for MediaPipe's body depth
# Head widths from the mouth: a hand this near is at the face (the forehead is about 1.1 away),
# and one this far (the chest) is on the body.
FACE_REACH = (1.2, 1.8)
# Wrist-to-shoulder distance over the arm's length in the image: from the first an arm counts as
# straightening, from the second as straight.
STRAIGHT = (0.9, 0.98)
_HEAD_COLS = np.r_[np.arange(HEAD.start, HEAD.stop), np.arange(FACE.start, FACE.stop)]


@dataclass(frozen=True)
class Proportions:
    """A signer's proportions in shoulder widths: ear-to-ear head width, upper arm and forearm (3-D)."""

    head: float
    upper_arm: float
    forearm: float


# The lexicon track's one signer: the medians of `measure` over the 100 signs of asl-app-lexicon,
# real signers recorded by MediaPipe Holistic (tests/test_retarget.py checks them against it).
SIGNER = Proportions(head=0.38, upper_arm=0.94, forearm=0.82)


def head_width(arr: PoseArray) -> float | None:
    """Median ear-to-ear distance in the image plane (None when the ears are never both seen)."""
    ok = (arr.conf[:, LEFT_EAR] > 0) & (arr.conf[:, RIGHT_EAR] > 0)
    if not ok.any():
        return None
    width = float(np.median(np.linalg.norm(arr.xyz[ok, LEFT_EAR, :2] - arr.xyz[ok, RIGHT_EAR, :2], axis=1)))
    return width if width > 1e-6 else None


def _arm_bones(arr: PoseArray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per arm seen in at least 3 frames: (upper-arm vectors, forearm vectors), each (N, 3)."""
    bones = []
    for shoulder, elbow, wrist, _, _ in ARMS:
        ok = (arr.conf[:, shoulder] > 0) & (arr.conf[:, elbow] > 0) & (arr.conf[:, wrist] > 0)
        if ok.sum() >= 3:
            bones.append((arr.xyz[ok, elbow] - arr.xyz[ok, shoulder], arr.xyz[ok, wrist] - arr.xyz[ok, elbow]))
    return bones


def depth_scale(arr: PoseArray) -> float:
    """The factor for the body's depth that keeps the arm bones most constant in length (0 without depth)."""
    vectors = [v for pair in _arm_bones(arr) for v in pair]
    if not vectors or max(float(np.ptp(v[:, 2])) for v in vectors) < 1e-6:
        return 0.0
    costs = np.zeros(len(DEPTH_SCALES))
    for v in vectors:  # every candidate factor at once: (K, N) lengths
        v = v.astype(np.float64)
        lengths = np.sqrt((v[:, 0] ** 2 + v[:, 1] ** 2)[None] + (DEPTH_SCALES ** 2)[:, None] * (v[:, 2] ** 2)[None])
        costs += lengths.std(axis=1) / np.maximum(lengths.mean(axis=1), 1e-6)
    # The smallest factor within 1 % of the best: depth that barely helps is noise, not depth.
    return float(DEPTH_SCALES[int(np.flatnonzero(costs <= costs.min() * 1.01 + 1e-9)[0])])


def _bone_length(vectors: np.ndarray, k: float) -> float:
    """A bone's length: the median 3-D length, and never less than its longest usual image-plane projection."""
    flat = float(np.percentile(np.linalg.norm(vectors[:, :2], axis=1), 90))
    return max(flat, float(np.median(np.linalg.norm(vectors * (1.0, 1.0, k), axis=1))))


def measure(arr: PoseArray) -> Proportions:
    """The proportions of a shoulder-normalised sign (NaN for what it never shows); arms averaged over both sides."""
    k = depth_scale(arr)
    bones = _arm_bones(arr)
    head = head_width(arr)
    upper = [_bone_length(u, k) for u, _ in bones]
    fore = [_bone_length(f, k) for _, f in bones]
    return Proportions(
        head if head is not None else float("nan"),
        float(np.mean(upper)) if upper else float("nan"),
        float(np.mean(fore)) if fore else float("nan"),
    )


def two_bone_ik(shoulder: np.ndarray, elbow: np.ndarray, wrist: np.ndarray, upper, fore) -> np.ndarray:
    """(N, 3) elbows for bones of length `upper` and `fore` (scalars or (N,)) joining each shoulder to its wrist.

    Points are (N, 3). The elbow bends towards where the given `elbow` was (down, when that lies
    on the line). A wrist out of reach gets a straight arm pointing at it (`reach_wrist` says
    where that arm ends).
    """
    upper = np.reshape(np.asarray(upper, np.float64), (-1, 1))
    fore = np.reshape(np.asarray(fore, np.float64), (-1, 1))
    reach = wrist - shoulder
    d = np.linalg.norm(reach, axis=1, keepdims=True)
    axis = reach / np.maximum(d, 1e-9)
    dc = np.clip(d, np.abs(upper - fore) + 1e-6, upper + fore + 2e-6)
    along = (upper**2 - fore**2 + dc**2) / (2 * dc)
    out = np.sqrt(np.maximum(upper**2 - along**2, 0.0))
    bend = elbow - shoulder
    for fallback in ((0.0, 1.0, 0.0), (1.0, 0.0, 0.0)):
        perp = bend - (bend * axis).sum(axis=1, keepdims=True) * axis
        norm = np.linalg.norm(perp, axis=1, keepdims=True)
        weak = norm[:, 0] < 1e-6
        if not weak.any():
            break
        bend = np.where(weak[:, None], np.asarray(fallback, np.float32), bend)
    perp = perp / np.maximum(norm, 1e-9)
    return shoulder + along * axis + out * perp


def reach_wrist(shoulder: np.ndarray, wrist: np.ndarray, upper, fore) -> np.ndarray:
    """(N, 3) wrists no further from their shoulders than an arm of `upper` + `fore` (scalars or (N,)) reaches."""
    reach = wrist - shoulder
    d = np.linalg.norm(reach, axis=1, keepdims=True)
    longest = np.reshape(np.asarray(upper, np.float64) + np.asarray(fore, np.float64), (-1, 1))
    return shoulder + reach * np.minimum(1.0, longest / np.maximum(d, 1e-9))


def retarget(arr: PoseArray, target: Proportions = SIGNER) -> PoseArray:
    """The shoulder-normalised sign `arr` on the body of `target` (a new `PoseArray`; missing points stay missing)."""
    if not arr.meta.get("normalized"):
        raise ValueError("retarget needs a shoulder-normalised PoseArray (poses.normalize.normalize)")
    out = arr.copy()
    ok = arr.conf > 0
    mouth = ok[:, MOUTH_LEFT] & ok[:, MOUTH_RIGHT]
    pivot = np.where(mouth[:, None], (arr.xyz[:, MOUTH_LEFT] + arr.xyz[:, MOUTH_RIGHT]) / 2, arr.xyz[:, NOSE])[:, :2]
    has_pivot = mouth | ok[:, NOSE]
    width = head_width(arr)
    scale = target.head / width if width is not None else 1.0

    head = ok[:, _HEAD_COLS] & has_pivot[:, None]
    moved = pivot[:, None] + scale * (arr.xyz[:, _HEAD_COLS, :2] - pivot[:, None])
    out.xyz[:, _HEAD_COLS, :2] = np.where(head[..., None], moved, arr.xyz[:, _HEAD_COLS, :2])
    k = depth_scale(arr)
    for shoulder, elbow, wrist, body_hand, hand in ARMS:
        cols = np.r_[list(body_hand), np.arange(hand.start, hand.stop)]
        shift = _follow_face(arr.xyz[:, cols, :2], ok[:, cols], pivot, has_pivot, scale, width or 1.0)
        out.xyz[:, cols, :2] += shift[:, None, :] * ok[:, cols, None]
        _arm(arr, out, (shoulder, elbow, wrist, list(body_hand), cols), k, target)
    out = align_face(out)  # the face mesh sits on the retargeted head, not where its own model put it
    out.meta["retargeted"] = True
    return out


def _follow_face(points: np.ndarray, ok: np.ndarray, pivot: np.ndarray, has_pivot: np.ndarray, scale: float,
                 width: float) -> np.ndarray:
    """(T, 2) shift of a hand ((T, P, 2) points) that keeps it where it was on the face scaled by `scale` about `pivot`.

    The hand's point nearest the mouth says whether the hand is at the face: there it moves exactly
    as the face does (a thumb at the chin stays at the chin); the pull fades out between FACE_REACH
    head widths from the mouth, so a hand at the chest stays where it is.
    """
    points = np.where(ok[..., None], points, np.inf)
    dist = np.linalg.norm(points - pivot[:, None], axis=-1)
    nearest = np.argmin(dist, axis=1)
    d = np.take_along_axis(dist, nearest[:, None], axis=1)[:, 0] / width
    located = has_pivot & np.isfinite(d)
    near = np.where(located[:, None], np.take_along_axis(points, nearest[:, None, None], axis=1)[:, 0], pivot)
    inner, outer = FACE_REACH
    pull = np.where(located, np.clip((outer - d) / (outer - inner), 0.0, 1.0), 0.0)
    return (pull * (scale - 1.0))[:, None] * (near - pivot)


def _arm(arr: PoseArray, out: PoseArray, joints: tuple, k: float, target: Proportions) -> None:
    """Re-solve one arm of `out` (its hand already moved with the face) for the target's bones, in place.

    `joints` = (shoulder, elbow, wrist, the hand's body points, every column of the hand). Solved in
    the image plane, which the viewer sees and where the landmarks are sure: each bone keeps the
    source's foreshortening at the signer's length.
    """
    shoulder, elbow, wrist, body_hand, cols = joints
    ok, xyz = arr.conf > 0, out.xyz
    arm = ok[:, shoulder] & ok[:, elbow] & ok[:, wrist]
    if arm.sum() < 3:
        return
    src_s, src_e, src_w = arr.xyz[arm, shoulder], arr.xyz[arm, elbow], arr.xyz[arm, wrist]
    lengths = _bone_length(src_e - src_s, k), _bone_length(src_w - src_e, k)
    if min(lengths) < 1e-6:  # no arm to speak of (made-up or broken data): leave it
        return
    to_upper, to_fore = target.upper_arm / lengths[0], target.forearm / lengths[1]
    flat = np.array([1.0, 1.0, 0.0], np.float32)
    src_upper, src_fore = (src_e - src_s) * flat, (src_w - src_e) * flat
    n_upper = np.linalg.norm(src_upper, axis=1, keepdims=True)
    n_fore = np.linalg.norm(src_fore, axis=1, keepdims=True)
    upper, fore = to_upper * n_upper[:, 0], to_fore * n_fore[:, 0]
    at_shoulder, at_wrist = xyz[arm, shoulder] * flat, xyz[arm, wrist] * flat
    # A straight arm (at rest, reaching, pointing) stays straight and its hand goes where the
    # signer's arm puts it; a bent arm (hand at the face or the chest) keeps its hand in place.
    straight = np.linalg.norm((src_w - src_s) * flat, axis=1, keepdims=True) / np.maximum(n_upper + n_fore, 1e-9)
    follow = np.clip((straight - STRAIGHT[0]) / (STRAIGHT[1] - STRAIGHT[0]), 0.0, 1.0)
    swung = at_shoulder + src_upper * (upper[:, None] / np.maximum(n_upper, 1e-9)) \
        + src_fore * (fore[:, None] / np.maximum(n_fore, 1e-9))
    reached = reach_wrist(at_shoulder, at_wrist + follow * (swung - at_wrist), upper, fore)
    solved = two_bone_ik(at_shoulder, src_e * flat, reached, upper, fore)
    # The hand comes along wherever the wrist moved; depth follows the bones.
    elbow_z = src_s[:, 2] + to_upper * (src_e[:, 2] - src_s[:, 2])
    moved = np.zeros((len(arr), 3), np.float32)
    moved[arm, :2] = (reached - at_wrist)[:, :2]
    moved[arm, 2] = elbow_z + to_fore * (src_w[:, 2] - src_e[:, 2]) - src_w[:, 2]
    xyz[:, cols, :2] += moved[:, None, :2] * ok[:, cols, None]
    xyz[:, body_hand, 2] += moved[:, None, 2] * ok[:, body_hand]
    xyz[arm, elbow, :2] = solved[:, :2]
    xyz[arm, elbow, 2] = elbow_z
