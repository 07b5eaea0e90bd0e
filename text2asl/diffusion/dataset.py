"""Skeleton-image datasets for diffusion: lexicon signs -> captioned keyframes in the imagefolder layout, and back.

    DIR/metadata.jsonl   {"file_name": "HELLO/0_phase3.png", "text": "asl skeleton, HELLO, phase 3 of 8",
                          "hands": [[x0, y0, x1, y1], ...], ...}
    DIR/HELLO/0_phase3.png
    DIR/dataset.json     resolution, phases, render settings, glosses with their mean duration

This is the layout `datasets.load_dataset("imagefolder", data_dir=DIR)` and diffusers' example
trainers read. Each sign is cut into `n_phases` equal parts and the frame at the centre of each part
becomes one image, captioned with the gloss and the phase, so the keyframes of one gloss are an
ordered set that generation can play back. No flip augmentation anywhere: mirroring swaps the
dominant and the non-dominant hand, which is a different (or no) sign.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from text2asl.diffusion.caption import CAPTION, caption, gloss_token, parse_caption
from text2asl.diffusion.config import KEYFRAME_VIEW
from text2asl.diffusion.ranges import PHASES_RANGE, RESOLUTION_RANGE, THICKNESS_RANGE
from text2asl.errors import Text2ASLError

METADATA = "metadata.jsonl"
INFO = "dataset.json"


def phase_frames(n_frames: int, n_phases: int) -> np.ndarray:
    """(n_phases,) int frame indices: the centre frame of each of `n_phases` equal parts of the sign."""
    centres = (np.arange(n_phases) + 0.5) * n_frames / n_phases - 0.5
    return np.clip(np.floor(centres + 0.5), 0, n_frames - 1).astype(int)  # half-up, not banker's rounding


def _safe_name(gloss: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", gloss_token(gloss)) or "_"


def _save_png(image: np.ndarray, path: Path) -> None:
    from PIL import Image

    from text2asl.io import atomic_path

    with atomic_path(path) as tmp:
        Image.fromarray(image).save(tmp, format="PNG")


def hand_boxes(renderer, xyz: np.ndarray, conf: np.ndarray, margin: int | None = None) -> list[list[int]]:
    """[[x0, y0, x1, y1], ...] pixel boxes (inclusive, inside the image) around each hand's present points as `renderer` draws them.

    xyz: (543, 3) normalised points, conf: (543,). `margin` px on every side; None: the line
    thickness plus 1/32 of the image. A hand with no present point, or drawn outside the image, has no box.
    """
    from text2asl.poses.layout import LEFT_HAND, RIGHT_HAND

    size = renderer.config.size
    margin = renderer.config.thickness + size // 32 if margin is None else margin
    px = renderer.to_pixels(np.asarray(xyz))
    boxes = []
    for hand in (LEFT_HAND, RIGHT_HAND):
        present = np.asarray(conf)[hand] > 0
        if not present.any():
            continue
        pts = px[hand][present]
        x0, y0 = np.floor(pts.min(0)).astype(int) - margin
        x1, y1 = np.ceil(pts.max(0)).astype(int) + margin
        box = [max(0, int(x0)), max(0, int(y0)), min(size - 1, int(x1)), min(size - 1, int(y1))]
        if box[0] <= box[2] and box[1] <= box[3]:
            boxes.append(box)
    return boxes


def boxes_mask(boxes: Iterable[Sequence[int]], size: int) -> np.ndarray:
    """(size, size) bool: True inside any of the inclusive [x0, y0, x1, y1] pixel `boxes`."""
    mask = np.zeros((size, size), bool)
    for x0, y0, x1, y1 in boxes:
        mask[y0:y1 + 1, x0:x1 + 1] = True
    return mask


def keyframe_source(lexicon, entry):
    """The `PoseArray` a sign's keyframes are drawn from: shoulder-normalised, short gaps filled, rest trimmed."""
    from text2asl.poses.filters import fill_gaps, trim_rest
    from text2asl.poses.normalize import normalize

    return trim_rest(fill_gaps(normalize(lexicon.load(entry))))


def make_dataset(
    lexicons: Sequence[str | Path],
    output_dir: str | Path,
    resolution: int = 512,
    n_phases: int = 8,
    thickness: int | None = None,
    face: bool = True,
    progress: bool = True,
) -> Path:
    """Render every sign of `lexicons` into `n_phases` captioned keyframes under `output_dir`.

    Poses are shoulder-normalised, short gaps filled and rest frames at both ends trimmed, then
    drawn by the project's `SkeletonRenderer` framed on the signing space (config.KEYFRAME_VIEW; no
    caption, no hand insets: the image is the skeleton alone). Each row records the hands' pixel
    boxes (`hand_boxes`) for the grounding loss of base training. Images already present from an interrupted run with the same settings are
    kept; metadata.jsonl and dataset.json are written last, atomically.
    Returns `output_dir`.
    """
    from tqdm.auto import tqdm

    from text2asl.gloss_to_pose.lexicon import Lexicon
    from text2asl.pose_to_video.render import RenderConfig, SkeletonRenderer
    from text2asl.io import atomic_path, make_folder, refuse_escaping_links

    if not lexicons:
        raise Text2ASLError("no lexicon given; pass at least one --lexicon DIR (a folder with index.csv)")
    for flag, value, (lo, hi) in (("--resolution", resolution, RESOLUTION_RANGE), ("--phases", n_phases, PHASES_RANGE),
                                  ("--thickness", THICKNESS_RANGE[0] if thickness is None else thickness, THICKNESS_RANGE)):
        if not lo <= value <= hi:
            raise Text2ASLError(f"{flag} must be in [{lo}, {hi}], got {value}")
    output_dir = Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise Text2ASLError(f"-o {output_dir} is a file, not a dataset folder; give a new or existing folder")
    thickness = thickness if thickness is not None else max(1, round(2 * resolution / 512))
    render = RenderConfig(size=resolution, caption=False, hands_inset=False, face_inset=False, thickness=thickness, face=face,
                          view=KEYFRAME_VIEW)
    settings = {"resolution": resolution, "n_phases": n_phases, "render": asdict(render)}
    old = output_dir / INFO
    if old.is_file():
        previous = read_info(output_dir)
        if {k: previous.get(k) for k in settings} != json.loads(json.dumps(settings)):
            raise Text2ASLError(
                f"{output_dir} already holds a dataset made with other settings ({old}); choose another -o or delete it"
            )
    opened = [lex if isinstance(lex, Lexicon) else Lexicon(lex) for lex in lexicons]
    entries = [(lex, e) for lex in opened for e in lex.entries]
    if not entries:
        raise Text2ASLError(f"the lexicons {', '.join(str(lex.path) for lex in opened)} hold no signs")
    refuse_escaping_links(make_folder(output_dir, "dataset folder"), "dataset folder")
    renderer = SkeletonRenderer(render)
    rows: list[dict] = []
    durations: dict[str, list[float]] = {}
    instances: dict[str, int] = {}
    for lex, entry in tqdm(entries, desc="make-dataset", unit="sign", disable=not progress):
        gloss = gloss_token(entry.gloss)
        instance = instances.get(gloss, 0)
        instances[gloss] = instance + 1
        arr = keyframe_source(lex, entry)
        durations.setdefault(gloss, []).append(len(arr) / arr.fps)
        for phase, t in enumerate(phase_frames(len(arr), n_phases), start=1):
            name = f"{_safe_name(gloss)}/{instance}_phase{phase}.png"
            target = output_dir / name
            if not target.is_file():
                make_folder(target.parent, "dataset folder")
                _save_png(renderer.frame(arr.xyz[t], arr.conf[t]), target)
            rows.append({
                "file_name": name, "text": caption(gloss, phase, n_phases), "gloss": gloss, "phase": phase,
                "n_phases": n_phases, "frame": int(t), "source": f"{lex.name}:{entry.path.name}",
                "hands": hand_boxes(renderer, arr.xyz[t], arr.conf[t]),
            })
    glosses = {g: {"instances": instances[g], "duration_s": round(float(np.mean(d)), 3)} for g, d in durations.items()}
    with atomic_path(output_dir / METADATA) as tmp:
        tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with atomic_path(output_dir / INFO) as tmp:
        tmp.write_text(json.dumps({**settings, "caption": CAPTION, "glosses": glosses}, indent=1))
    return output_dir


def read_metadata(data_dir: str | Path) -> list[dict]:
    """The rows of `data_dir/metadata.jsonl`, checked: the folder exists, rows have file_name and text, images exist.

    Every file_name must stay inside `data_dir` (no absolute or ../ paths) and name an image file.
    """
    from text2asl.io import contained_path

    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise Text2ASLError(f"dataset folder {data_dir} does not exist; create it with `text2asl make-dataset`")
    meta = data_dir / METADATA
    if not meta.is_file():
        raise Text2ASLError(f"dataset folder {data_dir} has no {METADATA}; create the dataset with `text2asl make-dataset`")
    try:
        text = meta.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Text2ASLError(f"{meta} is unreadable ({type(exc).__name__}); regenerate the dataset with `text2asl make-dataset`") from None
    rows = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            raise Text2ASLError(f"{meta} line {line_no} is not valid JSON; fix or regenerate the dataset") from None
        if not isinstance(row, dict) or not isinstance(row.get("file_name"), str) or not isinstance(row.get("text"), str):
            raise Text2ASLError(f"{meta} line {line_no} needs a file_name and a text caption, both strings")
        contained_path(data_dir, row["file_name"], f"{meta} line {line_no}", "dataset folder")
        for key, kind in (("gloss", str), ("phase", int), ("n_phases", int)):
            if key in row and (not isinstance(row[key], kind) or isinstance(row[key], bool)):
                raise Text2ASLError(f"{meta} line {line_no} gives {key} {row[key]!r}, not a{'n integer' if kind is int else ' string'}")
        if "hands" in row and not _is_box_list(row["hands"]):
            raise Text2ASLError(f"{meta} line {line_no} gives hands {str(row['hands'])[:60]}, not a list of [x0, y0, x1, y1] "
                                "pixel boxes with x0 <= x1 and y0 <= y1; regenerate the dataset")
        if "n_phases" in row and not PHASES_RANGE[0] <= row["n_phases"] <= PHASES_RANGE[1]:
            raise Text2ASLError(f"{meta} line {line_no} gives n_phases {row['n_phases']}, not in [{PHASES_RANGE[0]}, {PHASES_RANGE[1]}]")
        rows.append(row)
    if not rows:
        raise Text2ASLError(f"{meta} is empty; the dataset holds no images, rebuild it with `text2asl make-dataset`")
    missing = [r["file_name"] for r in rows if not (data_dir / r["file_name"]).is_file()]
    if missing:
        raise Text2ASLError(
            f"{meta} names {len(missing)} image(s) that do not exist in {data_dir} (first: {missing[0]}); "
            "rebuild the dataset or remove those rows"
        )
    return rows


def _is_box_list(value) -> bool:
    """A list of [x0, y0, x1, y1] lists of non-negative ints with x0 <= x1 and y0 <= y1."""
    def is_box(box) -> bool:
        return (isinstance(box, list) and len(box) == 4
                and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= RESOLUTION_RANGE[1] for v in box)
                and box[0] <= box[2] and box[1] <= box[3])
    return isinstance(value, list) and all(is_box(b) for b in value)


def read_info(data_dir: str | Path) -> dict:
    """dataset.json of a dataset made by `make_dataset` ({} for a hand-made imagefolder), checked field by field."""
    from text2asl.io import read_json_object

    path = Path(data_dir) / INFO
    info = read_json_object(path, "regenerate the dataset with `text2asl make-dataset` or delete the file")
    for key, lo, hi in (("resolution", *RESOLUTION_RANGE), ("n_phases", *PHASES_RANGE)):
        value = info.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi):
            raise Text2ASLError(f"{path} gives {key} {value!r}, not an integer in [{lo}, {hi}]; regenerate the dataset")
    glosses = info.get("glosses")
    if glosses is not None and not (isinstance(glosses, dict) and all(isinstance(v, dict) for v in glosses.values())):
        raise Text2ASLError(f"{path} gives glosses that are not an object of objects; regenerate the dataset")
    for gloss, entry in (glosses or {}).items():
        duration = entry.get("duration_s")
        if duration is not None and (not isinstance(duration, (int, float)) or isinstance(duration, bool)
                                     or not 0 < duration < 3600):
            raise Text2ASLError(f"{path} gives {gloss} a duration_s of {duration!r}; regenerate the dataset")
    return info


def load_image(path: str | Path, resolution: int) -> np.ndarray:
    """(resolution, resolution, 3) uint8 RGB: shorter side resized to `resolution`, centre-cropped, never flipped."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        raise Text2ASLError(f"dataset image {path} is unreadable ({type(exc).__name__}); "
                            "regenerate the dataset or remove its row from metadata.jsonl") from None
    w, h = im.size
    s = resolution / min(w, h)
    if (w, h) != (resolution, resolution):
        im = im.resize((max(resolution, round(w * s)), max(resolution, round(h * s))), Image.Resampling.LANCZOS)
    w, h = im.size
    left, top = (w - resolution) // 2, (h - resolution) // 2
    return np.asarray(im.crop((left, top, left + resolution, top + resolution)))


def check_images(data_dir: str | Path, rows: Sequence[dict]) -> None:
    """Open every image's header (cheap: no pixels are decoded), so a non-image fails before training, in one sentence."""
    from PIL import Image, UnidentifiedImageError

    for row in rows:
        path = Path(data_dir) / row["file_name"]
        try:
            with Image.open(path) as im:
                im.size  # noqa: B018 - the header is parsed on open; size proves it is an image
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
            raise Text2ASLError(f"dataset image {path} is not a readable image ({type(exc).__name__}); "
                                "regenerate the dataset or remove its row from metadata.jsonl") from None


class SkeletonImageDataset:
    """A map-style dataset (works with torch's DataLoader) over a skeleton imagefolder.

    Item i: {"pixel_values": (3, R, R) float32 tensor in [-1, 1], "input_ids": (L,) int64 token ids}.
    Decoded images are cached in memory (64² images: 12 KB each) unless `cache=False`.
    """

    def __init__(self, data_dir: str | Path, tokenizer, resolution: int, cache: bool = True):
        import torch

        self.data_dir = Path(data_dir)
        self.rows = read_metadata(self.data_dir)
        self.resolution = resolution
        self.captions = [r["text"] for r in self.rows]
        self.input_ids = tokenize(tokenizer, self.captions)
        self._torch = torch
        self._cache: dict[int, np.ndarray] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.rows)

    def image(self, i: int) -> np.ndarray:
        """(R, R, 3) uint8 RGB of row i."""
        if self._cache is not None and i in self._cache:
            return self._cache[i]
        img = load_image(self.data_dir / self.rows[i]["file_name"], self.resolution)
        if self._cache is not None:
            self._cache[i] = img
        return img

    def hand_masks(self, size: int):
        """(N, size, size) float32 tensor: the share of each cell covered by the row's hand boxes, or None if a row has none recorded.

        Boxes are drawn at the dataset's resolution, then area-averaged down to `size` (a latent grid).
        """
        import torch.nn.functional as F

        if any("hands" not in r for r in self.rows):
            return None
        full = np.stack([boxes_mask(r["hands"], self.resolution) for r in self.rows]).astype(np.float32)
        return F.adaptive_avg_pool2d(self._torch.from_numpy(full)[:, None], size)[:, 0]

    def gloss_token_mask(self, tokenizer):
        """(N, L) float32 tensor: 1 at the token positions of each row's gloss (`caption.gloss_positions`), 0 elsewhere."""
        from text2asl.diffusion.caption import gloss_positions

        mask = self._torch.zeros(self.input_ids.shape, dtype=self._torch.float32)
        for i, text in enumerate(self.captions):
            positions = [p for p in gloss_positions(tokenizer, text) if p < mask.shape[1]]
            mask[i, positions] = 1.0
        return mask

    def __getitem__(self, i: int) -> dict:
        img = self._torch.from_numpy(self.image(i).copy()).permute(2, 0, 1).float() / 127.5 - 1.0
        return {"pixel_values": img, "input_ids": self.input_ids[i]}


def tokenize(tokenizer, prompts: Iterable[str]):
    """(N, model_max_length) int64 tensor of padded, truncated token ids."""
    return tokenizer(
        list(prompts), padding="max_length", max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt"
    ).input_ids


def skeleton_dataset(lexicons: Sequence, output_dir: str | Path, resolution: int, n_phases: int,
                     glosses: Sequence[str] | None = None, n_examples: int | None = None, progress: bool = False) -> Path:
    """`make_dataset` over whole `lexicons`, or over just some signs of the first one; returns the dataset folder.

    glosses: the signs to keep; n_examples (without glosses): keep `example_glosses(lexicons[0], n_examples)`.
    The sub-lexicon of kept signs is written beside the dataset, as `<output_dir>-lexicon`.
    """
    from text2asl.gloss_to_pose.sublexicon import example_glosses, sub_lexicon

    output_dir = Path(output_dir)
    if glosses is None and n_examples:
        glosses = example_glosses(lexicons[0], n_examples)
    if glosses:
        sources = [sub_lexicon(lexicons[0], glosses, output_dir.with_name(output_dir.name + "-lexicon"))]
    else:
        sources = [lex.path for lex in lexicons]
    return make_dataset(sources, output_dir, resolution=resolution, n_phases=n_phases, progress=progress)


def gloss_keyframes(data_dir: str | Path, glosses: Sequence[str] | None = None,
                    resolution: int | None = None) -> dict[str, np.ndarray]:
    """{gloss: (n_phases, R, R, 3) uint8 RGB} of a skeleton dataset: each gloss's first instance, phases in order.

    glosses: which glosses (None: all, in dataset order); resolution: R (None: the dataset's own).
    """
    data_dir = Path(data_dir)
    rows = read_metadata(data_dir)
    resolution = resolution or read_info(data_dir).get("resolution")
    first: dict[str, dict[int, Path]] = {}
    for row in rows:
        parsed = parse_caption(row["text"])
        gloss = row.get("gloss") or (parsed[0] if parsed else None)
        phase = row.get("phase") or (parsed[1] if parsed else None)
        if gloss is None or phase is None:
            continue
        phases = first.setdefault(gloss, {})
        phases.setdefault(int(phase), data_dir / row["file_name"])  # later instances repeat phases: skip them
    chosen = list(first) if glosses is None else [gloss_token(g) for g in glosses]
    unknown = [g for g in chosen if g not in first]
    if unknown:
        raise Text2ASLError(f"dataset {data_dir} has no images of {', '.join(unknown)}; it has {', '.join(list(first)[:12])}")
    out = {}
    for gloss in chosen:
        paths = [first[gloss][k] for k in sorted(first[gloss])]
        images = [load_image(p, resolution) if resolution else _read_rgb(p) for p in paths]
        out[gloss] = np.stack(images)
    return out


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))
