"""Compare a generated sign with a reference: SSIM, PSNR and DTW-MJE of one pair of files, or of a folder against a lexicon.

A sign is a `.pose` file (poses) or a video (`.mp4`, `.gif`, any `VIDEO_READ_SUFFIXES`: frames). Frames are compared as
they are; a `.pose` side is drawn by the metrics' renderer (`metrics.default_renderer`: no
caption, no hand inset) at the other side's frame size, or at `size` when both are poses. So
render generated videos with `caption=False, hands_inset=False` (or compare the `.pose` files)
when the caption should not count.

Frame pairing: two poses are paired by DTW on the poses (`align="dtw"`, as `text2asl evaluate`
does) or by resampling; a video side has no poses, so it is always resampled linearly in time.
DTW-MJE needs poses on both sides; otherwise it is reported as missing (nan). A reference that is
a camera recording (e.g. a clip of ../shared/data/real-videos) is compared through its extracted
poses (`load_sign(..., extract=True)`, `--extract-ref`): its pixels are a person, not a skeleton.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from text2asl.errors import Text2ASLError
from text2asl.evaluation.metrics import VideoScores
from text2asl.poses.layout import PoseArray

from text2asl.io import VIDEO_READ_SUFFIXES

SIGN_SUFFIXES = VIDEO_READ_SUFFIXES + (".pose",)
PLOT_FRAMES = 6  # reference frames (with their paired prediction frames) kept for the side-by-side plot
FRAME_COLUMNS = ("gloss", "reference_frame", "prediction_frame", "ssim", "psnr")
PAIR_COLUMNS = ("gloss", "prediction", "reference", "prediction_frames", "reference_frames", "pairing", "ssim", "psnr", "dtw_mje")


@dataclass
class Sign:
    """One side of a comparison: a pose sequence, or frames (T, H, W, 3) uint8 RGB; `source` names it in messages."""

    source: str
    pose: PoseArray | None = None
    frames: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.pose) if self.pose is not None else len(self.frames)


@dataclass
class PairResult:
    """Scores of one prediction against one reference.

    n_prediction: frames in the prediction (scores.match has one entry per reference frame);
    keyframes: [(reference frame index, reference image, paired prediction image)], images (H, W, 3)
    uint8 as compared, `PLOT_FRAMES` of them spread over the sign (not all: a folder of long
    videos would not fit in memory).
    """

    gloss: str
    prediction: str
    reference: str
    scores: VideoScores
    dtw_mje: float
    pairing: str
    n_prediction: int
    keyframes: list[tuple[int, np.ndarray, np.ndarray]]

    @property
    def n_reference(self) -> int:
        return len(self.scores.match)


def load_sign(path: str | Path, option: str = "--pred", extract: bool = False) -> Sign:
    """A `.pose`, `.mp4` or `.gif` file as a `Sign`; a missing, unknown or unreadable file raises one sentence naming it.

    extract: the video is a camera recording of a signer; its poses are extracted with MediaPipe
    Holistic (`text2asl.extract`), so it is compared as a skeleton and DTW-MJE is available.
    """
    from text2asl.io import read_video
    from text2asl.poses.layout import read_pose_file

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SIGN_SUFFIXES:
        raise Text2ASLError(f"{option} {path} is not a sign file; give one of {', '.join(SIGN_SUFFIXES)}")
    if not path.is_file():
        raise Text2ASLError(f"{option} {path} does not exist; check the path")
    if suffix == ".pose":
        return Sign(str(path), pose=read_pose_file(path))
    if extract:
        from text2asl.extract.holistic import extract_video
        from text2asl.poses.layout import to_canonical

        return Sign(str(path), pose=to_canonical(extract_video(path)))
    try:
        frames, _ = read_video(path)
    except Text2ASLError as exc:  # name the option and say what to do
        raise Text2ASLError(f"{option} {exc}; re-export the video or give another file") from None
    try:
        video = list(frames)
    except Exception as exc:  # ffmpeg gives up mid-stream on a truncated file
        raise Text2ASLError(f"{option} {path} is not a readable video ({type(exc).__name__}); re-export it") from None
    if not video:
        raise Text2ASLError(f"{option} {path} holds no decodable frame; re-export the video")
    return Sign(str(path), frames=np.stack(video))


def compare(pred: Sign, ref: Sign, align: str = "dtw", size: int = 256, gloss: str = "") -> PairResult:
    """SSIM/PSNR per reference frame, the frame pairing used, and DTW-MJE (nan without poses on both sides)."""
    from text2asl.evaluation.dtw import dtw_mje
    from text2asl.evaluation.metrics import alignment, default_renderer, score_frames

    shape = _frame_shape(pred, ref, size)
    renderer = default_renderer(shape[0])
    pred_frames, ref_frames = _frames(pred, renderer), _frames(ref, renderer)
    both_poses = pred.pose is not None and ref.pose is not None
    method = align if both_poses else "resample"
    match = alignment(len(pred), len(ref), method, pred.pose, ref.pose)
    scores = score_frames(pred_frames, ref_frames, match)
    mje = dtw_mje(pred.pose, ref.pose).mje if both_poses else float("nan")
    pairing = "DTW on the poses" if method == "dtw" else "linear resampling in time"
    picks = np.unique(np.linspace(0, len(ref_frames) - 1, min(PLOT_FRAMES, len(ref_frames))).round().astype(int))
    keyframes = [(int(j), ref_frames[j], pred_frames[int(match[j])]) for j in picks]
    return PairResult(gloss or Path(pred.source).stem, pred.source, ref.source, scores, mje, pairing, len(pred), keyframes)


def _frame_shape(pred: Sign, ref: Sign, size: int) -> tuple[int, int]:
    """(H, W) both sides are compared at; refuses videos of different sizes and poses beside a non-square video."""
    shapes = {s.source: s.frames.shape[1:3] for s in (pred, ref) if s.frames is not None}
    if len(set(shapes.values())) > 1:
        (a, sa), (b, sb) = shapes.items()
        raise Text2ASLError(f"{a} is {sa[1]}x{sa[0]} but {b} is {sb[1]}x{sb[0]}; render both at one size")
    if not shapes:
        return size, size
    source, (h, w) = next(iter(shapes.items()))
    if h != w and ref.frames is not None and pred.pose is not None:  # a camera recording, not a rendered skeleton
        raise Text2ASLError(f"--ref {source} is a {w}x{h} video, not a rendered skeleton: give --extract-ref to compare "
                            "the poses extracted from it with --pred")
    if h != w and (pred.pose is not None or ref.pose is not None):
        raise Text2ASLError(f"{source} is {w}x{h}; a .pose is compared with square videos only, so render the video square")
    return h, w


def _frames(sign: Sign, renderer) -> list[np.ndarray]:
    if sign.frames is not None:
        return list(sign.frames)
    from text2asl.poses.normalize import normalize

    return list(renderer.frames(normalize(sign.pose)))


def prediction_files(folder: str | Path, option: str = "--pred", suffixes: tuple[str, ...] = SIGN_SUFFIXES) -> dict[str, Path]:
    """{gloss key: file} of the signs in a folder, named <gloss>.<suffix> (any case, '-' or '_' for spaces).

    Two files for one gloss, or none at all, raise one sentence naming `option`.
    """
    from text2asl.gloss_to_pose.lexicon import gloss_key

    folder = Path(folder)
    if not folder.is_dir():
        raise Text2ASLError(f"{option} {folder} is not a folder; give a folder of <gloss>{suffixes[0]} files")
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in suffixes or path.name.startswith("."):
            continue
        key = gloss_key(path.stem)
        if key in files:
            raise Text2ASLError(f"{option} {folder} holds {files[key].name} and {path.name} for one gloss; keep one")
        files[key] = path
    if not files:
        raise Text2ASLError(f"{option} {folder} holds no sign file ({', '.join(suffixes)})")
    return files


def compare_folder(pred_dir: str | Path, lexicon, align: str = "dtw", size: int = 256) -> tuple[list[PairResult], list[str]]:
    """Every prediction in `pred_dir` against the lexicon's first sign of its gloss; (results, glosses the lexicon lacks)."""
    results, missing = [], []
    for key, path in prediction_files(pred_dir).items():
        entries = lexicon.find(key)
        if not entries:
            missing.append(path.stem)
            continue
        ref = Sign(f"{lexicon.name}:{entries[0].gloss}", pose=lexicon.load(entries[0]))
        results.append(compare(load_sign(path), ref, align, size, gloss=entries[0].gloss))
    if not results:
        raise Text2ASLError(f"no file in --pred {pred_dir} names a gloss of {lexicon.name}; name them <gloss>.mp4 like hello.mp4")
    return results, missing


def pairing_text(result: PairResult, limit: int = 24) -> str:
    """'DTW on the poses: reference frame -> prediction frame 0->0 1->0 ...' (the first `limit` pairs)."""
    pairs = " ".join(f"{j}->{i}" for j, i in enumerate(result.scores.match[:limit]))
    more = f" ... ({len(result.scores.match)} in all)" if len(result.scores.match) > limit else ""
    return f"{result.gloss}: {result.pairing}, reference frame -> prediction frame {pairs}{more}"


def table(results: list[PairResult]) -> str:
    """Markdown: one line per pair, and mean ± std over pairs when there are several."""
    from text2asl.evaluation.report import METRICS, markdown_table

    names = [METRICS[m].title for m in ("ssim", "psnr", "dtw_mje")]
    lines = [[r.gloss, f"{r.n_prediction} / {r.n_reference}", METRICS["ssim"].one(r.scores.mean_ssim),
              METRICS["psnr"].one(r.scores.mean_psnr), METRICS["dtw_mje"].one(r.dtw_mje), r.pairing] for r in results]
    if len(results) > 1:
        cells = [METRICS[m].spread(v) for m, v in (("ssim", [r.scores.mean_ssim for r in results]),
                                                   ("psnr", [r.scores.mean_psnr for r in results]),
                                                   ("dtw_mje", [r.dtw_mje for r in results]))]
        lines.append([f"mean ± std ({len(results)} signs)", "", *cells, ""])
    return markdown_table(["gloss", "frames (pred / ref)", *names, "pairing"], lines, align="lrrrrl")


def write_outputs(results: list[PairResult], out_dir: str | Path) -> list[Path]:
    """pairs.csv (one line per pair), frames.csv (one line per reference frame) and <gloss>.png side by side, atomically."""
    from text2asl.io import atomic_path, make_folder

    out = make_folder(out_dir, "results folder")
    with atomic_path(out / "pairs.csv") as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(PAIR_COLUMNS)
        for r in results:
            w.writerow([r.gloss, r.prediction, r.reference, r.n_prediction, r.n_reference,
                        r.pairing, r.scores.mean_ssim, r.scores.mean_psnr, r.dtw_mje])
    with atomic_path(out / "frames.csv") as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(FRAME_COLUMNS)
        for r in results:
            for j, (i, s, p) in enumerate(zip(r.scores.match, r.scores.ssim, r.scores.psnr)):
                w.writerow([r.gloss, j, int(i), float(s), float(p)])
    paths = [out / "pairs.csv", out / "frames.csv"]
    for r in results:
        slug = "".join(c if c.isalnum() else "-" for c in r.gloss).strip("-") or "sign"
        paths.append(plot_pair(r, out / f"{slug}.png"))
    return paths


def plot_pair(result: PairResult, path: str | Path) -> Path:
    """A PNG: the result's keyframes, reference over paired prediction, and SSIM/PSNR per reference frame."""
    from matplotlib.figure import Figure  # files only: no pyplot, so a notebook's backend is left alone

    from text2asl.io import atomic_path
    from text2asl.pose_to_video.gallery import frame_grid

    picks, refs, preds = zip(*result.keyframes)
    grid = frame_grid(list(refs) + list(preds), ncols=len(picks))
    fig = Figure(figsize=(2 * len(picks), 4 + 2.2))
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [4, 2.2]})
    top.imshow(grid)
    top.set_title(f"{result.gloss}: reference (top) and paired prediction (bottom), frames {', '.join(map(str, picks))}", fontsize=9)
    top.axis("off")
    bottom.plot(result.scores.ssim, color="tab:blue")
    bottom.set(xlabel="reference frame", ylabel="SSIM")
    twin = bottom.twinx()
    twin.plot(result.scores.psnr, color="tab:orange")
    twin.set_ylabel("PSNR (dB)", color="tab:orange")
    bottom.set_title(f"SSIM {result.scores.mean_ssim:.3f}, PSNR {result.scores.mean_psnr:.1f} dB; {result.pairing}", fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    return Path(path)
