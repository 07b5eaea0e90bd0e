"""The held-out protocol: every system and baseline scored against held-out real signs, as tidy rows.

A `Suite` is a list of held-out reference signs (gloss + real pose) and, per system, what that
system produced for each gloss: a `PoseArray` (pose track, baselines) or frames (the diffusion
track, which produces images only). `run_suite` scores each prediction with DTW-MJE, SSIM/PSNR
on identically rendered frames, and recognition (rank of the true gloss among the suite's real
reference signs), and returns tidy rows `{suite, system, gloss, metric, value}`.

Two suites come ready-made:
* `embedded_suite`: the ASL alphabet inside spoken-to-signed (runs on a fresh clone): letters
  against controlled copies (noisy, re-timed), a wrong letter, the static mean pose, and, when
  another signer's lexicon is given, the same letter from that signer;
* `held_out_suite`: a held-out lexicon (another signer, e.g. clips of ../shared/data/real-videos)
  against a training lexicon: the pose track (`text2asl.translate` with the training lexicon),
  the training signer's raw sign, and the static mean pose.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from text2asl.poses.layout import PoseArray

POSE_METRICS = ("dtw_mje", "ssim", "psnr", "rank", "top1", "top5")


@dataclass
class Suite:
    """Held-out references and the systems' outputs for them.

    recognition_references: the real signs a prediction is recognised among (default: references).

    references: [(gloss, PoseArray)], real signs, one per gloss.
    poses: {system: {gloss: PoseArray}} pose outputs (any coordinates; normalised before scoring).
    frames: {system: {gloss: (T, H, W, 3) uint8}} frame-only outputs, square, scored by SSIM/PSNR.
    """

    name: str
    references: list[tuple[str, PoseArray]]
    poses: dict[str, dict[str, PoseArray]] = field(default_factory=dict)
    frames: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    recognition_references: list[tuple[str, PoseArray]] | None = None  # default: `references`


def run_suite(suite: Suite, align: str = "dtw", size: int = 256, images: bool = True, workers: int | None = None,
              progress: bool = True) -> list[dict]:
    """Tidy rows for every (system, gloss, metric) of a suite (see module doc)."""
    from text2asl.evaluation.dtw import dtw_mje
    from text2asl.evaluation.metrics import score_frames, score_many
    from text2asl.evaluation.recognize import Recognizer

    refs = dict(suite.references)
    recognizer = Recognizer(suite.recognition_references or suite.references)
    rows: list[dict] = []

    def add(system: str, gloss: str, metric: str, value: float) -> None:
        rows.append({"suite": suite.name, "system": system, "gloss": gloss, "metric": metric, "value": float(value)})

    pairs = []
    for system, outputs in suite.poses.items():
        for gloss, pred in outputs.items():
            ref = refs[gloss]
            add(system, gloss, "dtw_mje", dtw_mje(pred, ref).mje)
            rank = recognizer.rank(pred).rank_of(gloss) or len(recognizer.glosses) + 1
            add(system, gloss, "rank", rank)
            add(system, gloss, "top1", rank <= 1)
            add(system, gloss, "top5", rank <= 5)
            pairs.append((system, gloss, pred, ref))
    if images and pairs:
        scores = score_many([(p, r) for _, _, p, r in pairs], align=align, size=size, workers=workers, progress=progress)
        for (system, gloss, _, _), s in zip(pairs, scores):
            add(system, gloss, "ssim", s.mean_ssim)
            add(system, gloss, "psnr", s.mean_psnr)
            for t, (a, b) in enumerate(zip(s.ssim, s.psnr)):
                rows.append({"suite": suite.name, "system": system, "gloss": gloss, "metric": "frame_ssim", "value": float(a), "frame": t})
                rows.append({"suite": suite.name, "system": system, "gloss": gloss, "metric": "frame_psnr", "value": float(b), "frame": t})
    for system, outputs in suite.frames.items():
        for gloss, frames in outputs.items():
            ref_frames = _render(refs[gloss], frames.shape[1])
            s = score_frames(frames, ref_frames)  # no poses on this side: resampling alignment
            add(system, gloss, "ssim", s.mean_ssim)
            add(system, gloss, "psnr", s.mean_psnr)
    return rows


def _render(arr: PoseArray, size: int) -> list[np.ndarray]:
    from text2asl.evaluation.metrics import default_renderer
    from text2asl.poses.normalize import normalize

    return list(default_renderer(size).frames(normalize(arr)))


def recognition_rows(name: str, queries: list[tuple[str, PoseArray]], references: list[tuple[str, PoseArray]]) -> list[dict]:
    """Tidy rows for the recogniser itself (robust and naive) on real queries against real references."""
    from text2asl.evaluation.recognize import Recognizer

    rows = []
    known = {g for g, _ in references}
    for label, naive in (("recognizer (robust)", False), ("recognizer (naive)", True)):
        rec = Recognizer(references, naive=naive)
        for gloss, arr in queries:
            if gloss not in known:
                continue
            rank = rec.rank(arr).rank_of(gloss) or len(references) + 1
            for metric, value in (("rank", rank), ("top1", rank <= 1), ("top5", rank <= 5)):
                rows.append({"suite": name, "system": label, "gloss": gloss, "metric": metric, "value": float(value)})
    return rows


def embedded_suite(other_signer_lexicon=None, seed: int = 0) -> Suite:
    """The alphabet suite (26 real letters from spoken-to-signed) with controlled copies and baselines."""
    from text2asl.evaluation import baselines
    from text2asl.gloss_to_pose.lexicon import Lexicon

    lex = Lexicon.embedded()
    refs = [(e.gloss, lex.load(e)) for e in lex.entries]
    suite = Suite("alphabet", refs)
    suite.poses["copy + noise 0.05 sw"] = {g: baselines.perturbed(a, 0.05, 0.1, seed + i) for i, (g, a) in enumerate(refs)}
    suite.poses["copy, 1.5x slower"] = {g: baselines.retimed(a, 1.5) for g, a in refs}
    suite.poses["baseline: other letter"] = {g: baselines.different_gloss(g, refs)[1] for g, _ in refs}
    mean_length = int(round(np.mean([len(a) for _, a in refs])))
    still = baselines.static_mean_pose([a for _, a in refs], mean_length, refs[0][1].fps)
    suite.poses["baseline: static mean pose"] = {g: still for g, _ in refs}
    if other_signer_lexicon is not None:
        other = {g: baselines.other_signer(g, other_signer_lexicon) for g, _ in refs}
        suite.poses["baseline: other signer"] = {g: a for g, a in other.items() if a is not None}
    else:
        suite.notes.append("baseline 'other signer' needs a second ASL lexicon (e.g. ../shared/data/asl-app-lexicon)")
    return suite


def held_out_suite(held_out, training, name: str = "held-out", pose_track: bool = True,
                   diffusion: Callable[[str], np.ndarray] | None = None) -> Suite:
    """Held-out lexicon (references) vs a training lexicon, over the glosses both have.

    diffusion: optional gloss -> (T, H, W, 3) uint8 frames generator (the diffusion track).
    """
    from text2asl.evaluation import baselines

    refs, seen = [], set()
    for e in held_out.entries:
        if e.gloss not in seen and training.find(e.gloss):
            seen.add(e.gloss)
            refs.append((e.gloss, held_out.load(e)))
    # Every held-out sign is a candidate for recognition, also those the training lexicon lacks.
    suite = Suite(name, refs, recognition_references=[(e.gloss, held_out.load(e)) for e in held_out.entries])
    if not refs:
        suite.notes.append(f"{held_out.name} and {training.name} share no gloss")
        return suite
    if pose_track:
        suite.poses["pose track (lexicon)"] = {g: _pose_track(g, training) for g, _ in refs}
    suite.poses["baseline: other signer"] = {g: baselines.other_signer(g, training) for g, _ in refs}
    train_signs = [training.load(e) for e in training.entries]
    still = baselines.static_mean_pose(train_signs, int(round(np.mean([len(a) for _, a in refs]))), refs[0][1].fps)
    suite.poses["baseline: static mean pose"] = {g: still for g, _ in refs}
    if diffusion is not None:
        suite.frames["diffusion track"] = {g: diffusion(g) for g, _ in refs}
    return suite


def _pose_track(gloss: str, training) -> PoseArray:
    """What `text2asl translate --glosses GLOSS` signs with the training lexicon (stitched, normalised)."""
    from text2asl.pipeline import translate

    return translate(glosses=[gloss.replace(" ", "-")], lexicons=[training]).sequence()
