"""DTW-MJE: mean joint error between two sign poses after dynamic time warping, with masked points.

The metric of Huang et al. (2021, "Towards fast and high-quality sign language production") as
used since (Ham2Pose, Arkushin et al. 2023; sign-language-processing/pose-evaluation):

* both sequences are shoulder-normalised (`text2asl.poses.normalize`), so errors are in shoulder
  widths whatever the camera, image size or signer's size;
* points: upper body (MediaPipe pose 0-24, the legs are out of frame in sign videos) and both hands;
  the face is optional (it dominates the point count but carries little of the lexical content);
* masked points: a point missing in the *reference* costs nothing; a point missing in the
  *prediction* while the reference has it costs half the reference point's distance from the
  origin, i.e. from the shoulder centre (Ham2Pose's `masked_euclidean`);
* only x and y: MediaPipe's z is scaled differently by every exporter (the ASL-App lexicon stores
  it in pixels, a fresh extraction in image-width units), so it would measure the exporter.

Two alignments are offered. `per_joint=False` (default): one warping path for the whole skeleton,
the frame cost being the mean joint error, and the result is the mean cost along that path (a
sign's joints move together, so they share one time alignment). `per_joint=True`: every joint
trajectory is warped on its own and the result is the mean over joints of the per-joint mean path
cost, as Ham2Pose's nDTW-MJE does (more lenient).

Why not dtaidistance here: its C kernels take raw series and a (squared) Euclidean distance over
the whole frame vector; the masked mean-of-joint-norms frame cost cannot be expressed that way.
So the cost matrix is built with numpy and accumulated by `accumulate` below, vectorised over
anti-diagonals and over a batch (the joints). The recogniser, whose features have no masks, does
use dtaidistance.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from text2asl.poses.layout import BODY, FACE, LEFT_HAND, N_POINTS, RIGHT_HAND, PoseArray

UPPER_BODY = slice(0, 25)  # MediaPipe pose landmarks above the knees (face, arms, hands, hips).


def point_indices(face: bool = False) -> np.ndarray:
    """Indices into the canonical layout (`N_POINTS`) used by DTW-MJE: upper body + hands (+ face)."""
    points = np.arange(N_POINTS)
    parts = [points[UPPER_BODY], points[LEFT_HAND], points[RIGHT_HAND]]
    if face:
        parts.insert(1, points[FACE])
    assert BODY.start == 0
    return np.concatenate(parts)


def joint_costs(pred: np.ndarray, pred_ok: np.ndarray, ref: np.ndarray, ref_ok: np.ndarray) -> np.ndarray:
    """Masked per-joint distances between every prediction frame and every reference frame.

    pred (n, J, D), pred_ok (n, J) bool; ref (m, J, D), ref_ok (m, J) bool.
    Returns (J, n, m) float64: |p - r| where both exist, 0 where the reference is missing,
    |r| / 2 where only the prediction is missing.
    """
    pred = np.where(pred_ok[..., None], pred, 0.0).astype(np.float64)
    ref = np.where(ref_ok[..., None], ref, 0.0).astype(np.float64)
    diff = pred.transpose(1, 0, 2)[:, :, None, :] - ref.transpose(1, 0, 2)[:, None, :, :]  # (J, n, m, D)
    dist = np.sqrt(np.einsum("jnmd,jnmd->jnm", diff, diff))
    half_norm = np.linalg.norm(ref, axis=-1).T[:, None, :] / 2  # (J, 1, m)
    p_ok = pred_ok.T[:, :, None]
    r_ok = ref_ok.T[:, None, :]
    return np.where(r_ok, np.where(p_ok, dist, half_norm), 0.0)


def accumulate(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Classic DTW (steps (1,0), (0,1), (1,1), no window) over a batch of cost matrices.

    cost: (..., n, m) float, non-negative. Returns (total (...), path_length (...) int,
    accumulated (..., n+1, m+1) with an inf border row/column, for `warping_path`).
    Ties prefer the diagonal step, so the reported path is the shortest of the optimal ones.
    """
    cost = np.asarray(cost, np.float64)
    *batch, n, m = cost.shape
    acc = np.full((*batch, n + 1, m + 1), np.inf)
    length = np.zeros((*batch, n + 1, m + 1), np.int64)
    acc[..., 0, 0] = 0.0
    for d in range(n + m - 1):  # cells of one anti-diagonal depend only on the two before it
        i = np.arange(max(0, d - m + 1), min(n - 1, d) + 1)
        j = d - i
        candidates = np.stack([acc[..., i, j], acc[..., i, j + 1], acc[..., i + 1, j]])
        steps = np.stack([length[..., i, j], length[..., i, j + 1], length[..., i + 1, j]])
        best = np.argmin(candidates, axis=0)
        acc[..., i + 1, j + 1] = cost[..., i, j] + np.take_along_axis(candidates, best[None], 0)[0]
        length[..., i + 1, j + 1] = np.take_along_axis(steps, best[None], 0)[0] + 1
    return acc[..., n, m], length[..., n, m], acc


def warping_path(acc: np.ndarray) -> list[tuple[int, int]]:
    """The optimal path [(i, j), ...] from (0, 0) to (n-1, m-1), from one `accumulate` matrix (n+1, m+1)."""
    i, j = acc.shape[0] - 1, acc.shape[1] - 1
    path = [(i - 1, j - 1)]
    while (i, j) != (1, 1):
        moves = [(i - 1, j - 1), (i - 1, j), (i, j - 1)]
        i, j = min(moves, key=lambda ij: acc[ij])  # min() keeps the first of equals: diagonal first
        path.append((i - 1, j - 1))
    return path[::-1]


@dataclass
class DTWResult:
    """DTW-MJE of one prediction against one reference.

    mje: mean joint error along the warping path, in shoulder widths (the reported number).
    total: accumulated cost; path_length: steps on the path; path: [(pred_frame, ref_frame), ...]
    (frame alignment only, empty for per-joint alignment).
    """

    mje: float
    total: float
    path_length: int
    path: list[tuple[int, int]]


def _prepared(arr: PoseArray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from text2asl.poses.normalize import normalize

    norm = normalize(arr)
    return norm.xyz[:, idx, :2], norm.conf[:, idx] > 0


def dtw_mje(pred: PoseArray, ref: PoseArray, face: bool = False, per_joint: bool = False) -> DTWResult:
    """DTW-MJE between a predicted and a reference sign (any pixel or normalised coordinates)."""
    if len(pred) == 0 or len(ref) == 0:
        raise ValueError("DTW-MJE needs at least one frame in each sequence")
    idx = point_indices(face)
    p, p_ok = _prepared(pred, idx)
    r, r_ok = _prepared(ref, idx)
    costs = joint_costs(p, p_ok, r, r_ok)  # (J, n, m)
    if per_joint:
        total, length, _ = accumulate(costs)
        return DTWResult(float(np.mean(total / length)), float(total.sum()), int(length.max()), [])
    total, length, acc = accumulate(costs.mean(axis=0))
    return DTWResult(float(total / length), float(total), int(length), warping_path(acc))


def frame_alignment(pred: PoseArray, ref: PoseArray) -> np.ndarray:
    """(m,) int: for every reference frame, the prediction frame DTW pairs it with (the first on the path)."""
    path = dtw_mje(pred, ref).path
    match = np.full(len(ref), -1, np.int64)
    for i, j in path:
        if match[j] < 0:
            match[j] = i
    return match
