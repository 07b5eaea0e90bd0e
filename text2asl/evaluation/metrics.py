"""SSIM and PSNR between generated and reference skeleton videos rendered identically (scikit-image).

Both sequences are drawn by the same `SkeletonRenderer` (or come as frames of one size), then
paired frame by frame. Sequences of different length are aligned in one of two ways:

* ``"dtw"``: each reference frame is paired with the prediction frame that DTW-MJE's warping path
  on the poses gives it (needs poses for both sides); a sign played slower or with a pause is not
  punished for its timing, only for its shapes;
* ``"resample"``: the prediction is stretched linearly in time to the reference length (nearest
  frame): a global speed difference is forgiven, pauses and local timing errors are not.

SSIM and PSNR are computed on luma (ITU-R BT.601 weights, float32), as video tools usually report
them (SSIM-Y, PSNR-Y): ~3x cheaper than per-channel RGB, and the skeleton's limb colours still
differ in luma. Identical frames skip scikit-image: SSIM(x, x) is 1 by definition. The PSNR of identical frames is
infinite; it is capped at `PSNR_CAP_DB` so that means and standard deviations stay finite.
Two skeleton renders that differ visibly (dozens of pixels) stay below ~60 dB, and one 8-bit
step in one pixel of a 256x256 frame already gives ~96-110 dB, so the cap only ever stands in for
"identical" or "identical but for a pixel".
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from text2asl.poses.layout import PoseArray

PSNR_CAP_DB = 100.0
ALIGNMENTS = ("dtw", "resample")
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _luma(frame: np.ndarray) -> np.ndarray:
    return frame.astype(np.float32) @ _LUMA if frame.ndim == 3 else frame.astype(np.float32)


def frame_ssim(pred: np.ndarray, ref: np.ndarray) -> float:
    """SSIM of two (H, W, 3) or (H, W) uint8 frames, on luma, data range 255 (scikit-image)."""
    return frame_scores(pred, ref)[0]


def frame_psnr(pred: np.ndarray, ref: np.ndarray) -> float:
    """PSNR-Y in dB of two uint8 frames (scikit-image); identical frames give `PSNR_CAP_DB`, not inf."""
    return frame_scores(pred, ref)[1]


def frame_scores(pred: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    """(SSIM, PSNR dB) of two (H, W, 3) or (H, W) uint8 frames, both on luma, sharing one conversion."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    _check_pair(pred, ref)
    if np.array_equal(pred, ref):
        return 1.0, PSNR_CAP_DB
    p, r = _luma(pred), _luma(ref)
    ssim = float(structural_similarity(p, r, data_range=255.0))
    if np.array_equal(p, r):  # different colours with equal luma
        return ssim, PSNR_CAP_DB
    return ssim, float(min(PSNR_CAP_DB, peak_signal_noise_ratio(r, p, data_range=255.0)))


def _check_pair(pred: np.ndarray, ref: np.ndarray) -> None:
    if pred.shape != ref.shape:
        raise ValueError(f"frames differ in shape: {pred.shape} vs {ref.shape}; render both at one size")


def resample_alignment(n_pred: int, n_ref: int) -> np.ndarray:
    """(n_ref,) int: the prediction frame nearest in relative time to each reference frame."""
    if n_pred <= 0 or n_ref <= 0:
        raise ValueError("both sequences need at least one frame")
    if n_ref == 1:
        return np.zeros(1, np.int64)
    return np.rint(np.arange(n_ref) * (n_pred - 1) / (n_ref - 1)).astype(np.int64)


def alignment(n_pred: int, n_ref: int, method: str = "dtw", pred_pose: PoseArray | None = None,
              ref_pose: PoseArray | None = None) -> np.ndarray:
    """(n_ref,) int: which prediction frame is compared with each reference frame (see module doc)."""
    if method not in ALIGNMENTS:
        raise ValueError(f"alignment must be one of {ALIGNMENTS}, not {method!r}")
    if method == "resample":
        return resample_alignment(n_pred, n_ref)
    if pred_pose is None or ref_pose is None:
        raise ValueError("DTW alignment needs the poses of both sequences; pass them or use 'resample'")
    from text2asl.evaluation.dtw import frame_alignment

    return frame_alignment(pred_pose, ref_pose)


@dataclass
class VideoScores:
    """Per-frame SSIM and PSNR of one prediction against one reference, paired on reference frames.

    ssim, psnr: (n_ref,) float64; match: (n_ref,) int, the prediction frame paired with each.
    """

    ssim: np.ndarray
    psnr: np.ndarray
    match: np.ndarray

    @property
    def mean_ssim(self) -> float:
        return float(np.mean(self.ssim))

    @property
    def mean_psnr(self) -> float:
        return float(np.mean(self.psnr))


def score_frames(pred_frames: Sequence[np.ndarray], ref_frames: Sequence[np.ndarray], match: np.ndarray | None = None) -> VideoScores:
    """SSIM/PSNR of prediction frames (n, H, W, 3) uint8 against reference frames (m, H, W, 3) uint8.

    `match` (m,) gives the prediction frame for each reference frame (default: resampling).
    """
    if len(pred_frames) == 0 or len(ref_frames) == 0:
        raise ValueError("both videos need at least one frame")
    match = resample_alignment(len(pred_frames), len(ref_frames)) if match is None else np.asarray(match)
    pairs = np.array([frame_scores(pred_frames[i], ref) for i, ref in zip(match, ref_frames)]).reshape(-1, 2)
    return VideoScores(pairs[:, 0], pairs[:, 1], match)


def score_poses(pred: PoseArray, ref: PoseArray, align: str = "dtw", size: int = 256, renderer=None) -> VideoScores:
    """Render both pose sequences with one renderer (no caption) and score their aligned frames."""
    renderer = renderer or default_renderer(size)
    match = alignment(len(pred), len(ref), align, pred, ref)
    from text2asl.poses.normalize import normalize

    pred_n, ref_n = normalize(pred), normalize(ref)
    needed = np.unique(match)
    pred_frames = {int(i): renderer.frame(pred_n.xyz[i], pred_n.conf[i]) for i in needed}
    ref_frames = [renderer.frame(ref_n.xyz[j], ref_n.conf[j]) for j in range(len(ref))]
    return score_frames(pred_frames, ref_frames, match)


def default_renderer(size: int = 256):
    """The one renderer configuration metrics use: no caption, no hand inset, so only the skeleton counts."""
    from text2asl.pose_to_video.render import RenderConfig, SkeletonRenderer

    return SkeletonRenderer(RenderConfig(size=size, caption=False, hands_inset=False, face_inset=False))


def _score_pair(job: tuple) -> VideoScores:
    pred, ref, align, size = job
    return score_poses(pred, ref, align, size)


def score_many(pairs: Iterable[tuple[PoseArray, PoseArray]], align: str = "dtw", size: int = 256,
               workers: int | None = None, progress: bool = True) -> list[VideoScores]:
    """`score_poses` over many (prediction, reference) pairs, in `workers` processes (default: all cores)."""
    from tqdm.auto import tqdm

    jobs = [(p, r, align, size) for p, r in pairs]
    workers = min(len(jobs), workers or os.cpu_count() or 1)
    bar = dict(total=len(jobs), desc="SSIM/PSNR", unit="video", disable=not progress)
    if workers <= 1:
        return [_score_pair(j) for j in tqdm(jobs, **bar)]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers) as pool:
        return list(tqdm(pool.map(_score_pair, jobs, chunksize=max(1, len(jobs) // (8 * workers))), **bar))


def mean_std(values: Iterable[float]) -> tuple[float, float]:
    """(mean, population std) of finite values; (nan, nan) when there are none."""
    arr = np.asarray([v for v in values if np.isfinite(v)], np.float64)
    if arr.size == 0:
        return float("nan"), float("nan")
    return float(arr.mean()), float(arr.std())
