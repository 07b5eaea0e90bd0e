"""Benchmark: evaluation speed, text2asl vs the bare libraries, measured in the same run.

1. SSIM/PSNR of 100 videos x 100 frames at 256x256 (render both sides with one SkeletonRenderer,
   DTW-align, score every frame), `text2asl.evaluation.metrics.score_many` with all cores, vs the
   bare scikit-image loop the course used (RGB `structural_similarity(channel_axis=-1)` +
   `peak_signal_noise_ratio` per frame on the same pre-rendered frames, one process; timed on
   --bare-videos videos and scaled to 100, since the full loop takes minutes).
2. Recognition: one query against a 100-sign reference set, the robust recogniser (features +
   dtaidistance C DTW, windowed) vs dtaidistance on raw keypoints (the naive recogniser).
3. DTW-MJE of one 100x100-frame pair (masked costs + numpy anti-diagonal DTW) vs dtaidistance's
   C `dtw_ndim.distance` on the same unmasked points (which cannot express the masks).

The signs are the embedded ASL alphabet, stretched to 100 frames; predictions are noisy copies.

    .venv/bin/python benchmarks/bench_evaluation.py [--videos 100] [--bare-videos 5] [--workers N]
"""
from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np


def _cpu() -> float:
    """CPU seconds of this process and its reaped children (pool workers): immune to other users' load."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _signs(n: int, frames: int):
    from text2asl.evaluation.baselines import perturbed
    from text2asl.gloss_to_pose.lexicon import Lexicon
    from text2asl.poses.filters import resample

    lex = Lexicon.embedded()
    letters = [lex.load(e) for e in lex.entries]
    refs = [resample(letters[i % len(letters)], 25.0, n_frames=frames) for i in range(n)]
    preds = [perturbed(r, 0.05, 0.1, seed=i) for i, r in enumerate(refs)]
    return refs, preds


def bench_ssim(n_videos: int, n_bare: int, workers: int) -> list[tuple[str, float, str]]:
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    from text2asl.evaluation.metrics import default_renderer, score_many
    from text2asl.poses.normalize import normalize

    refs, preds = _signs(n_videos, 100)
    t, c = time.perf_counter(), _cpu()
    scores = score_many(list(zip(preds, refs)), align="dtw", size=256, workers=workers, progress=False)
    ours, ours_cpu = time.perf_counter() - t, _cpu() - c
    assert len(scores) == n_videos

    renderer = default_renderer(256)
    frames = [(list(renderer.frames(normalize(p))), list(renderer.frames(normalize(r)))) for p, r in zip(preds[:n_bare], refs[:n_bare])]
    t, c = time.perf_counter(), _cpu()
    for pf, rf in frames:
        for a, b in zip(pf, rf):
            structural_similarity(a, b, channel_axis=-1, data_range=255)
            peak_signal_noise_ratio(b, a, data_range=255)
    bare, bare_cpu = [(x / n_bare * n_videos) for x in (time.perf_counter() - t, _cpu() - c)]
    return [
        (f"SSIM+PSNR wall, {n_videos} videos x 100 frames at 256² (render + align + score, {workers} proc)", ours, "s"),
        (f"bare scikit-image RGB SSIM+PSNR wall, pre-rendered frames, 1 proc (scaled from {n_bare} videos)", bare, "s"),
        ("same, our CPU seconds (all processes)", ours_cpu, "s"),
        ("same, bare CPU seconds", bare_cpu, "s"),
    ]


def bench_recognition(n_refs: int = 100, n_queries: int = 10) -> list[tuple[str, float, str]]:
    from text2asl.evaluation.recognize import Recognizer

    refs, preds = _signs(n_refs, 60)
    references = [(f"G{i}", r) for i, r in enumerate(refs)]
    out = []
    for label, naive in (("robust recogniser (features + dtaidistance C, window 8)", False),
                         ("naive recogniser (raw keypoints, dtaidistance C)", True)):
        rec = Recognizer(references, naive=naive)
        t = time.perf_counter()
        for q in preds[:n_queries]:
            rec.rank(q)
        out.append((f"{label}: one query vs {n_refs} signs", (time.perf_counter() - t) / n_queries * 1000, "ms"))
    return out


def bench_dtw_mje(repeats: int = 5) -> list[tuple[str, float, str]]:
    from dtaidistance import dtw_ndim

    from text2asl.evaluation.dtw import dtw_mje, point_indices
    from text2asl.poses.normalize import normalize

    refs, preds = _signs(1, 100)
    t = time.perf_counter()
    for _ in range(repeats):
        dtw_mje(preds[0], refs[0])
    ours = (time.perf_counter() - t) / repeats * 1000
    idx = point_indices()
    a = normalize(preds[0]).xyz[:, idx, :2].reshape(100, -1).astype(np.float64)
    b = normalize(refs[0]).xyz[:, idx, :2].reshape(100, -1).astype(np.float64)
    t = time.perf_counter()
    for _ in range(repeats):
        dtw_ndim.distance(a, b, use_c=True)
    bare = (time.perf_counter() - t) / repeats * 1000
    return [("DTW-MJE, 100x100 frames, 67 points, masked (numpy)", ours, "ms"),
            ("dtaidistance C dtw_ndim on the same points, unmasked", bare, "ms")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=100)
    parser.add_argument("--bare-videos", type=int, default=5)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    results = bench_ssim(args.videos, args.bare_videos, args.workers) + bench_recognition() + bench_dtw_mje()
    print(f"\n{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end\n\n| measurement | time | ratio vs the row below |\n|---|---:|---:|")
    for k, (label, value, unit) in enumerate(results):
        ratio = f"{value / results[k + 1][1]:.2f}x" if k % 2 == 0 else ""
        print(f"| {label} | {value:.2f} {unit} | {ratio} |")


if __name__ == "__main__":
    main()
