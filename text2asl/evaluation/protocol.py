"""The held-out protocol: every system and baseline scored against held-out real signs, as tidy rows.

A `Suite` is a list of held-out reference signs (gloss + real pose) and, per system, what that
system produced for each gloss: a `PoseArray` (pose track, baselines) or frames (the diffusion
track, which produces images only). `run_suite` scores each prediction with DTW-MJE, SSIM/PSNR
on identically rendered frames, and recognition (rank of the true gloss among the suite's real
reference signs), and returns tidy rows `{suite, system, gloss, metric, value}`.

`evaluate` runs the standard evaluation that `text2asl evaluate` prints, notebook 05 shows and
the README quotes (`README_SETTINGS`): the alphabet suite, your own held-out lexicons, and with
../shared/data the real-videos vs ASL-App suite and the recogniser's own cross-signer tables.

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
from pathlib import Path
from typing import Callable

import numpy as np

from text2asl.errors import Text2ASLError
from text2asl.poses.layout import PoseArray

# The fresh-clone evaluation the README's table shows: `text2asl evaluate -o DIR --no-shared-data --size 128`.
README_SETTINGS = {"size": 128, "align": "dtw"}
REAL_VIDEOS_SUITE = "real-videos vs asl-app-lexicon"
ALPHABET_SUITE = "alphabet"

# The systems' names, as the rows, tables and plots show them.
NOISY_COPY = "copy + noise 0.05 sw"  # the reference itself, each joint moved by 0.05 shoulder widths
SLOWER_COPY = "copy, 1.5x slower"
OTHER_LETTER = "baseline: other letter"
STILL_POSE = "baseline: static mean pose"
OTHER_SIGNER = "baseline: other signer"
POSE_TRACK = "pose track (lexicon)"
DIFFUSION_TRACK = "diffusion track"


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
    suite = Suite(ALPHABET_SUITE, refs)
    suite.poses[NOISY_COPY] = {g: baselines.perturbed(a, 0.05, 0.1, seed + i) for i, (g, a) in enumerate(refs)}
    suite.poses[SLOWER_COPY] = {g: baselines.retimed(a, 1.5) for g, a in refs}
    suite.poses[OTHER_LETTER] = {g: baselines.different_gloss(g, refs)[1] for g, _ in refs}
    mean_length = int(round(np.mean([len(a) for _, a in refs])))
    still = baselines.static_mean_pose([a for _, a in refs], mean_length, refs[0][1].fps)
    suite.poses[STILL_POSE] = {g: still for g, _ in refs}
    if other_signer_lexicon is not None:
        other = {g: baselines.other_signer(g, other_signer_lexicon) for g, _ in refs}
        suite.poses[OTHER_SIGNER] = {g: a for g, a in other.items() if a is not None}
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
        suite.poses[POSE_TRACK] = {g: _pose_track(g, training) for g, _ in refs}
    suite.poses[OTHER_SIGNER] = {g: baselines.other_signer(g, training) for g, _ in refs}
    train_signs = [training.load(e) for e in training.entries]
    still = baselines.static_mean_pose(train_signs, int(round(np.mean([len(a) for _, a in refs]))), refs[0][1].fps)
    suite.poses[STILL_POSE] = {g: still for g, _ in refs}
    if diffusion is not None:
        suite.frames[DIFFUSION_TRACK] = {g: diffusion(g) for g, _ in refs}
    return suite


def _pose_track(gloss: str, training) -> PoseArray:
    """What `text2asl translate --glosses GLOSS --no-embedded-words` signs with the training lexicon (stitched, normalised).

    Without the embedded words: they are the asl-app signs that a suite may hold out as references.
    """
    from text2asl.pipeline import translate

    return translate(glosses=[gloss.replace(" ", "-")], lexicons=[training], embedded_words=False).sequence()


@dataclass
class Evaluation:
    """What `evaluate` measured: the suites, their tidy rows (per-frame rows included) and notes for the report."""

    suites: list[Suite]
    rows: list[dict]
    notes: list[str]

    def suite_rows(self, name: str) -> list[dict]:
        return [r for r in self.rows if r["suite"] == name]

    def table(self, suite: str | None = None) -> str:
        """The markdown summary (`report.summary_table`) of one suite or of all, per-frame rows left out."""
        from text2asl.evaluation.report import summary_table

        return summary_table([r for r in self.rows if "frame" not in r and suite in (None, r["suite"])])


def evaluate(embedded: bool = True, app=None, real=None, held_out=None, training=None,
             diffusion: Callable[[str], np.ndarray] | None = None, align: str = "dtw", size: int = 256,
             images: bool = True, workers: int | None = None, progress: bool = True) -> Evaluation:
    """The standard evaluation (see module doc); lexicons left None are skipped.

    app / real: the ASL-App lexicon (training signer) and the real-videos lexicon (held-out signer,
    `real_videos_lexicon`); held_out / training: your own lexicon splits; diffusion: gloss -> frames
    (`diffusion_generator`, `frames_folder`) scored in the held-out suites.
    """
    suites = []
    if embedded:
        suites.append(embedded_suite(other_signer_lexicon=app))
    if held_out is not None:
        suites.append(held_out_suite(held_out, training, "held-out", diffusion=diffusion))
    if real is not None and app is not None:
        suites.append(held_out_suite(real, app, REAL_VIDEOS_SUITE, diffusion=diffusion))
    rows, notes = [], []
    for suite in suites:
        notes += [f"{suite.name}: {n}" for n in suite.notes]
        rows += run_suite(suite, align, size, images, workers, progress)
    rows += cross_signer_recognition(app, real)
    if images:
        notes.append(f"SSIM/PSNR: frames rendered at {size}² by one SkeletonRenderer, aligned by {align}; "
                     "PSNR of identical frames capped at 100 dB")
    return Evaluation(suites, rows, notes)


def cross_signer_recognition(app=None, real=None) -> list[dict]:
    """The recogniser's own tables: real-videos -> ASL-App, embedded alphabet -> ASL-App, ASL-App letters -> alphabet."""
    from text2asl.gloss_to_pose.lexicon import Lexicon

    if app is None:
        return []
    signs = [(e.gloss, app.load(e)) for e in app.entries]
    emb = Lexicon.embedded()
    letters = [(e.gloss, emb.load(e)) for e in emb.entries]
    rows = []
    if real is not None:
        rows += recognition_rows("recognition: real-videos -> asl-app-lexicon", [(e.gloss, real.load(e)) for e in real.entries], signs)
    rows += recognition_rows("recognition: embedded alphabet -> asl-app-lexicon", letters, signs)
    rows += recognition_rows("recognition: asl-app letters -> embedded alphabet", [(g, a) for g, a in signs if len(g) == 1], letters)
    return rows


def shared_lexicons(shared: Path | None, out: Path, n_clips: int | None = None, workers: int | None = None,
                    progress: bool = True):
    """(ASL-App lexicon, real-videos lexicon) from a shared data folder; either is None when absent.

    The real-videos clips are extracted with MediaPipe into `out` (resumable, nothing is written
    to the data); `n_clips` keeps only the first clips whose gloss ASL-App also has (quick runs).
    """
    from text2asl.gloss_to_pose.lexicon import Lexicon

    if shared is None:
        return None, None
    if not shared.is_dir():
        raise Text2ASLError(f"--shared-data {shared} is not a folder; give the folder holding asl-app-lexicon and real-videos")
    app_dir, labels = shared / "asl-app-lexicon", shared / "real-videos" / "labels.csv"
    app = Lexicon(app_dir) if (app_dir / "index.csv").is_file() else None
    if app is None or not labels.is_file():
        return app, None
    return app, real_videos_lexicon(labels, out, app if n_clips else None, n_clips, workers, progress)


def real_videos_lexicon(labels: Path, out: Path, known=None, n_clips: int | None = None, workers: int | None = None,
                        progress: bool = True):
    """Labelled clips as a lexicon (MediaPipe poses extracted once into `out`, then reused).

    With `known` (a lexicon) and `n_clips`, only the first `n_clips` clips whose gloss `known` has.
    """
    from text2asl.extract.datasets import load_labels
    from text2asl.extract.lexicon_builder import build_lexicon, select
    from text2asl.gloss_to_pose.lexicon import Lexicon

    clips = load_labels(labels)
    if known is not None and n_clips is not None:
        clips = select(clips, glosses=[s.gloss for s in clips.samples if known.find(s.gloss)][:n_clips])
    build_lexicon(clips, out, workers=workers, progress=progress)
    return Lexicon(out)


def diffusion_generator(base: str, lora: Path | None = None, size: int = 256, device: str | None = None) -> Callable[[str], np.ndarray]:
    """gloss -> (T, size, size, 3) uint8 frames from `text2asl.diffusion.generate` (the diffusion track)."""
    from text2asl.diffusion.generate import generation_config, render_glosses

    config = generation_config(base, lora, size=size)  # the model's own settings, at the evaluation's frame size

    def frames(gloss: str) -> np.ndarray:
        return np.stack(list(render_glosses([gloss], base, lora, config, device=device, progress=False)))

    return frames


def frames_folder(folder: Path) -> Callable[[str], np.ndarray]:
    """gloss -> (T, H, W, 3) uint8 frames read from <folder>/<gloss>.mp4/.gif (any case, '-' or '_' for spaces)."""
    from text2asl.evaluation.pair import load_sign, prediction_files
    from text2asl.gloss_to_pose.lexicon import gloss_key
    from text2asl.io import VIDEO_READ_SUFFIXES

    files = prediction_files(folder, "--diffusion-frames", VIDEO_READ_SUFFIXES)

    def frames(gloss: str) -> np.ndarray:
        path = files.get(gloss_key(gloss))
        if path is None:
            raise Text2ASLError(f"--diffusion-frames {folder} has no video for {gloss}; name it {gloss.lower().replace(' ', '-')}.mp4")
        video = load_sign(path, "--diffusion-frames").frames
        if video.shape[1] != video.shape[2]:
            raise Text2ASLError(f"{path} is not a square video; the diffusion track is scored on square skeleton frames")
        return video

    return frames
