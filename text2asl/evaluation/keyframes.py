"""How good generated skeleton keyframes are: SSIM/PSNR against the real ones, baselines, phase diversity, attention on the hands.

Generated and real keyframes are compared phase by phase with the evaluation stage's own metrics
(`text2asl.evaluation.metrics.score_frames`: SSIM-Y and PSNR-Y, the numbers `text2asl evaluate`
prints), so both must be drawn at one size by one renderer (`make_dataset`'s). Two baselines put
the numbers in context:

* the mean training image, a static "average skeleton" that knows nothing about the gloss;
* the same phase of another gloss: a real skeleton in the right place, of the wrong sign.

A model that ignores its prompt's phase draws one picture per gloss; `phase_diversity` measures
how much a gloss's keyframes differ from each other, to be set beside the real keyframes' value.
`hand_share_lift` says how much more of a word's cross-attention lands on the hands than their area
would give it, with the hand boxes taken from the poses the real keyframes were rendered from.

    gen = {"BOOK": (K, H, W, 3) uint8, ...}; real = gloss_keyframes(data_dir)
    per_gloss = score_glosses(gen, real)       # {gloss: VideoScores}, one entry per phase
    summary(per_gloss)                          # mean, std, min, max of the per-gloss means
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from text2asl.evaluation.metrics import VideoScores, score_frames


def score_glosses(generated: Mapping[str, np.ndarray], real: Mapping[str, np.ndarray]) -> dict[str, VideoScores]:
    """{gloss: per-phase SSIM/PSNR} of each generated gloss's (K, H, W, 3) uint8 keyframes against its real ones, phase k with phase k."""
    out = {}
    for gloss, gen in generated.items():
        ref = real[gloss]
        if len(gen) != len(ref):
            raise ValueError(f"{gloss}: {len(gen)} generated keyframes but {len(ref)} real ones")
        out[gloss] = score_frames(gen, ref, match=np.arange(len(ref)))
    return out


def mean_image(images: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8: the pixel-wise mean of (N, H, W, 3) uint8 images, rounded."""
    return np.round(np.mean(np.asarray(images, np.float32).reshape(-1, *np.shape(images[0])), axis=0)).astype(np.uint8)


def static_scores(image: np.ndarray, real: Mapping[str, np.ndarray]) -> dict[str, VideoScores]:
    """{gloss: per-phase scores} of one fixed (H, W, 3) image shown for every keyframe (e.g. the mean image)."""
    return score_glosses({g: np.repeat(image[None], len(ref), 0) for g, ref in real.items()}, real)


def other_gloss_scores(real: Mapping[str, np.ndarray]) -> dict[str, VideoScores]:
    """{gloss: per-phase scores} of the same phase of every other gloss, averaged over those glosses.

    Needs at least two glosses with the same number of phases.
    """
    glosses = list(real)
    if len(glosses) < 2:
        raise ValueError("the other-gloss baseline needs at least two glosses")
    out = {}
    for g in glosses:
        others = [score_glosses({g: real[h]}, {g: real[g]})[g] for h in glosses if h != g]
        k = len(real[g])
        out[g] = VideoScores(np.mean([s.ssim for s in others], 0), np.mean([s.psnr for s in others], 0), np.arange(k))
    return out


def phase_diversity(keyframes: np.ndarray) -> float:
    """Mean absolute pixel difference (0-255) over all pairs of one gloss's (K, H, W, 3) uint8 keyframes; 0 when K < 2."""
    frames = np.asarray(keyframes, np.float32)
    pairs = list(itertools.combinations(range(len(frames)), 2))
    if not pairs:
        return 0.0
    return float(np.mean([np.abs(frames[i] - frames[j]).mean() for i, j in pairs]))


def hand_mask(renderer, xyz: np.ndarray, conf: np.ndarray, margin: int | None = None) -> np.ndarray:
    """(size, size) bool: the boxes around each hand's present points as `renderer` draws them (`dataset.hand_boxes`).

    xyz: (543, 3) normalised points, conf: (543,), of the frame the image was rendered from.
    margin None: the line thickness plus 1/32 of the image. A hand with no present point adds nothing.
    """
    from text2asl.diffusion.dataset import boxes_mask, hand_boxes

    return boxes_mask(hand_boxes(renderer, xyz, conf, margin), renderer.config.size)


def hand_share_lift(heat: np.ndarray, mask: np.ndarray) -> float:
    """(share of `heat` inside `mask`) / (share of the image `mask` covers): 1 = no preference, 2 = twice its area's share.

    heat: (H, W) non-negative attention map; mask: (H, W) bool. NaN for an empty or full mask or an all-zero map.
    """
    heat = np.asarray(heat, np.float64)
    area = float(np.mean(mask))
    total = float(heat.sum())
    if area <= 0.0 or area >= 1.0 or total <= 0.0:
        return float("nan")
    return float(heat[mask].sum() / total / area)


def keyframe_hand_masks(lexicon, data_dir: str | Path, glosses: Sequence[str]) -> dict[str, np.ndarray]:
    """{gloss: (K, R, R) bool} hand masks of the keyframes `gloss_keyframes` returns (each gloss's first instance).

    The poses come from `lexicon` (a `Lexicon` or folder: the one the dataset was made from), cut and
    rendered as `make_dataset` did, with the renderer settings recorded in the dataset's dataset.json.
    """
    from text2asl.diffusion.caption import gloss_token
    from text2asl.diffusion.dataset import keyframe_source, read_info, read_metadata
    from text2asl.gloss_to_pose.lexicon import Lexicon
    from text2asl.pose_to_video.render import RenderConfig, SkeletonRenderer

    lex = lexicon if isinstance(lexicon, Lexicon) else Lexicon(lexicon)
    render = read_info(data_dir)["render"]
    renderer = SkeletonRenderer(RenderConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in render.items()}))
    rows: dict[str, dict[int, dict]] = {}
    first_source: dict[str, str] = {}
    for row in read_metadata(data_dir):
        if row["source"] == first_source.setdefault(row["gloss"], row["source"]):  # as gloss_keyframes: 1st instance
            rows.setdefault(row["gloss"], {}).setdefault(int(row["phase"]), row)
    out = {}
    for gloss in map(gloss_token, glosses):
        phases = rows[gloss]
        file_name = phases[min(phases)]["source"].split(":", 1)[1]
        entry = next(e for e in lex.entries if gloss_token(e.gloss) == gloss and e.path.name == file_name)
        arr = keyframe_source(lex, entry)
        out[gloss] = np.stack([hand_mask(renderer, arr.xyz[phases[k]["frame"]], arr.conf[phases[k]["frame"]])
                               for k in sorted(phases)])
    return out


@dataclass
class Spread:
    """Mean, std, min and max over glosses of a per-gloss value (e.g. each gloss's mean SSIM)."""

    mean: float
    std: float
    min: float
    max: float
    n: int

    def text(self, digits: int = 3) -> str:
        return f"{self.mean:.{digits}f} ± {self.std:.{digits}f} [{self.min:.{digits}f}, {self.max:.{digits}f}]"


def spread(values: Mapping[str, float] | Sequence[float]) -> Spread:
    """The `Spread` of finite values (a dict's values or a sequence); NaNs are dropped."""
    arr = np.asarray(list(values.values()) if isinstance(values, Mapping) else list(values), np.float64)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return Spread(*(float("nan"),) * 4, 0)
    return Spread(float(arr.mean()), float(arr.std()), float(arr.min()), float(arr.max()), int(arr.size))


def summary(per_gloss: Mapping[str, VideoScores]) -> dict[str, Spread]:
    """{"ssim": Spread, "psnr": Spread} of the per-gloss mean SSIM and PSNR (dB)."""
    return {"ssim": spread({g: s.mean_ssim for g, s in per_gloss.items()}),
            "psnr": spread({g: s.mean_psnr for g, s in per_gloss.items()})}


def beats(model: Mapping[str, VideoScores], baseline: Mapping[str, VideoScores], metric: str) -> int:
    """How many glosses score higher on `metric` ('ssim' or 'psnr') under `model` than under `baseline`."""
    return sum(getattr(model[g], f"mean_{metric}") > getattr(baseline[g], f"mean_{metric}") for g in model)


@dataclass
class Target:
    """One quality target: `value` must be at least `threshold` (strictly above when `strict`)."""

    name: str
    value: float
    threshold: float
    strict: bool = True
    detail: str = ""

    @property
    def met(self) -> bool:
        return bool(self.value > self.threshold if self.strict else self.value >= self.threshold)

    def line(self, digits: int = 3) -> str:
        op = ">" if self.strict else ">="
        verdict = "met" if self.met else "MISSED"
        extra = f"; {self.detail}" if self.detail else ""
        return f"{verdict}: {self.name}: {self.value:.{digits}f} {op if self.met else 'not ' + op} {self.threshold:.{digits}f}{extra}"
