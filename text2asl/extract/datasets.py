"""Dataset adapters: WLASL v0.3 json, ASL Citizen CSVs and a `labels.csv` folder -> a list of labelled clips.

Metadata is untrusted input: a video path that is absolute or climbs out of the videos folder
(`../`) is refused with a `Text2ASLError` before anything is read, and a WLASL `video_id` must be a
plain name. Videos listed but absent from the folder are collected in `Dataset.missing` (most users
hold only part of WLASL), not raised.
"""
from __future__ import annotations

import csv
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from text2asl.errors import Text2ASLError
from text2asl.extract.holistic import Clip
from text2asl.io import CLIP_SUFFIXES, contained_path

SPLITS = ("train", "val", "test")
_PLAIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Sample:
    """One labelled sign clip.

    id: unique, filesystem-safe name of the clip (names its .pose file).
    gloss: upper-case gloss, e.g. "THANK YOU".
    video: path of the video file, inside the videos folder.
    clip: frame range and person box inside that video.
    split: "train" / "val" / "test" when the dataset says so, else None.
    signer: signer id as a string, or None.
    """

    id: str
    gloss: str
    video: Path
    clip: Clip = Clip()
    split: str | None = None
    signer: str | None = None


@dataclass(frozen=True)
class MissingVideo:
    """A clip the metadata lists whose video file is not in the videos folder."""

    id: str
    gloss: str
    video: str


@dataclass
class Dataset:
    """What an adapter found: the clips whose videos exist, and the ones whose videos are missing."""

    name: str
    samples: list[Sample] = field(default_factory=list)
    missing: list[MissingVideo] = field(default_factory=list)

    def summary(self) -> str:
        total = len(self.samples) + len(self.missing)
        glosses = len({s.gloss for s in self.samples})
        text = f"{self.name}: {len(self.samples)} of {total} listed clips found ({glosses} glosses)"
        if self.missing:
            text += f"; {len(self.missing)} videos missing from the videos folder"
        return text


def _require_dir(videos: str | Path, flag: str = "--videos") -> Path:
    videos = Path(videos)
    if not videos.is_dir():
        raise Text2ASLError(f"videos folder {videos} does not exist; pass the folder holding the clips with {flag}")
    return videos


def _read_csv(path: Path, required: tuple[str, ...], what: str) -> list[dict[str, str]]:
    if not path.is_file():
        raise Text2ASLError(f"{what} file {path} does not exist")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise Text2ASLError(f"{what} file {path} is not a readable CSV ({exc}); save it as UTF-8 CSV") from None
    absent = [c for c in required if c not in header]
    if absent:
        raise Text2ASLError(f"{what} file {path} lacks the column(s) {', '.join(absent)}; its header is {', '.join(header) or '(empty)'}")
    return rows


def _unique_id(base: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", base).strip("._") or "clip"
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


def _split(value: str | None, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Text2ASLError(f"{where} has split {value!r}; use one of train, val, test or leave it empty")
    value = value.strip().lower()
    value = {"validation": "val", "dev": "val", "training": "train"}.get(value, value)
    if value not in SPLITS:
        raise Text2ASLError(f"{where} has split {value!r}; use one of train, val, test or leave it empty")
    return value


def load_wlasl(json_path: str | Path, videos: str | Path) -> Dataset:
    """WLASL v0.3: a json list of {gloss, instances: [{video_id, frame_start (1-based), frame_end (-1 = end),
    fps, bbox [x0, y0, x1, y1], signer_id, split, ...}]}; videos are `<video_id>.mp4` in `videos`."""
    json_path, videos = Path(json_path), _require_dir(videos)
    if not json_path.is_file():
        raise Text2ASLError(f"WLASL annotation file {json_path} does not exist; pass WLASL_v0.3.json with --wlasl")
    try:
        entries = json.loads(json_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Text2ASLError(f"WLASL annotation file {json_path} is not valid JSON ({exc.__class__.__name__}); pass WLASL_v0.3.json") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "gloss" in e and "instances" in e for e in entries):
        raise Text2ASLError(f"{json_path} is not a WLASL v0.3 annotation file (expected a list of {{gloss, instances}})")
    by_stem = _video_files(videos)
    data, taken = Dataset("WLASL"), set()
    for k, entry in enumerate(entries):
        gloss = str(entry["gloss"]).strip().upper()
        if not gloss or not isinstance(entry["gloss"], str):
            raise Text2ASLError(f"{json_path.name} entry {k} has gloss {entry['gloss']!r}; give a non-empty text gloss")
        if not isinstance(entry["instances"], list) or not all(isinstance(i, dict) for i in entry["instances"]):
            raise Text2ASLError(f"{json_path.name} gloss {gloss!r} has instances that are not a list of objects; fix the file")
        for inst in entry["instances"]:
            vid = str(inst.get("video_id", "")).strip()
            where = f"{json_path.name} gloss {gloss!r} instance {inst.get('instance_id', '?')}"
            if not _PLAIN_ID.match(vid) or ".." in vid:
                raise Text2ASLError(f"{where} has video_id {vid!r}, which is not a plain file name; refused")
            start = _wlasl_int(inst, "frame_start", 1, where)
            end = _wlasl_int(inst, "frame_end", -1, where)
            if end >= 0 and end < start:
                raise Text2ASLError(f"{where} ends (frame_end {end}) before it starts (frame_start {start}); fix the file")
            clip = Clip(
                start_frame=max(0, start - 1),  # 1-based inclusive -> 0-based
                end_frame=None if end < 0 else end,  # 1-based inclusive end == 0-based exclusive end
                bbox=_wlasl_bbox(inst.get("bbox"), where),
            )
            split, signer = _split(inst.get("split"), where), inst.get("signer_id")
            path = by_stem.get(vid)
            if path is None:
                data.missing.append(MissingVideo(vid, gloss, f"{vid}.mp4"))
                continue
            data.samples.append(Sample(_unique_id(vid, taken), gloss, path, clip, split, None if signer is None else str(signer)))
    return data


# Frame numbers and pixel coordinates beyond these are no real video's (and 1e400 parses as inf).
_MAX_FRAME = 86_400_000
_MAX_PIXEL = 1e6


def _wlasl_int(inst: dict, key: str, default: int, where: str) -> int:
    """A whole frame number of a WLASL instance (-1 allowed: to the end), or one sentence naming it."""
    value = inst.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value != int(value) or not -1 <= value <= _MAX_FRAME:
        raise Text2ASLError(f"{where} has {key} {value!r}; give a whole frame number from -1 to {_MAX_FRAME}")
    return int(value)


def _wlasl_bbox(bbox, where: str) -> tuple[float, float, float, float] | None:
    """A WLASL person box [x0, y0, x1, y1] in pixels, None when absent; a malformed box is one sentence."""
    if bbox is None or bbox == []:
        return None
    ok = isinstance(bbox, list) and len(bbox) == 4 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and abs(v) <= _MAX_PIXEL for v in bbox)
    if not ok or bbox[2] <= bbox[0] or bbox[3] <= bbox[1]:
        raise Text2ASLError(f"{where} has bbox {bbox!r}; give [x0, y0, x1, y1] in pixels with x1 > x0 and y1 > y0, or leave it out")
    return tuple(float(v) for v in bbox)


def _video_and_gloss(videos: Path, video: str, gloss: str, where: str, column: str) -> tuple[Path, str]:
    """A row's video path (refused if it escapes `videos`) and its upper-case gloss (required)."""
    path = contained_path(videos, video, where, "videos folder")
    if not gloss:
        raise Text2ASLError(f"{where} has an empty {column}; fill it in or drop the row")
    return path, gloss.upper()


def load_asl_citizen(csv_paths, videos: str | Path) -> Dataset:
    """ASL Citizen: CSVs with `Participant ID, Video file, Gloss, ASL-LEX Code`; a CSV named
    train/val/test.csv gives its rows that split. Videos are `Video file` inside `videos`."""
    videos = _require_dir(videos)
    if isinstance(csv_paths, (str, Path)):
        csv_paths = [csv_paths]
    data, taken = Dataset("ASL Citizen"), set()
    for csv_path in map(Path, csv_paths):
        rows = _read_csv(csv_path, ("Participant ID", "Video file", "Gloss"), "ASL Citizen")
        split = _split(csv_path.stem, str(csv_path)) if csv_path.stem.lower() in {"train", "val", "test", "validation", "dev"} else None
        for i, row in enumerate(rows, start=2):
            where = f"{csv_path.name} line {i}"
            path, gloss = _video_and_gloss(videos, row["Video file"], row["Gloss"], where, "Gloss")
            if not path.is_file():
                data.missing.append(MissingVideo(Path(row["Video file"]).stem, gloss, row["Video file"]))
                continue
            data.samples.append(Sample(_unique_id(path.stem, taken), gloss, path, Clip(), split, row["Participant ID"] or None))
    return data


def load_labels(labels_csv: str | Path, videos: str | Path | None = None) -> Dataset:
    """A folder of clips with `labels.csv`: columns video, gloss, and optionally start, end
    (milliseconds, empty = whole file), split (train/val/test), signer. Videos default to the CSV's folder."""
    labels_csv = Path(labels_csv)
    videos = _require_dir(videos if videos is not None else labels_csv.parent)
    rows = _read_csv(labels_csv, ("video", "gloss"), "labels")
    data, taken = Dataset(f"labels {labels_csv.name}"), set()
    for i, row in enumerate(rows, start=2):
        where = f"{labels_csv.name} line {i}"
        path, gloss = _video_and_gloss(videos, row["video"], row["gloss"], where, "gloss")
        try:
            start = float(row["start"]) if row.get("start") else None
            end = float(row["end"]) if row.get("end") else None
        except ValueError:
            start = end = math.nan
        if not all(v is None or (math.isfinite(v) and 0 <= v <= _MAX_FRAME) for v in (start, end)):
            raise Text2ASLError(f"{where} has start/end {row.get('start')!r}/{row.get('end')!r}; "
                                f"give milliseconds from 0 to {_MAX_FRAME} or leave them empty")
        if start is not None and end is not None and end <= start:
            raise Text2ASLError(f"{where} ends ({end} ms) before it starts ({start} ms); fix start/end")
        if not path.is_file():
            data.missing.append(MissingVideo(Path(row["video"]).stem, gloss, row["video"]))
            continue
        base = path.stem if start is None and end is None else f"{path.stem}_{int(start or 0)}-{int(end or 0)}"
        data.samples.append(
            Sample(_unique_id(base, taken), gloss, path, Clip(start_ms=start, end_ms=end),
                   _split(row.get("split"), where), row.get("signer") or None)
        )
    return data


def _video_files(videos: Path) -> dict[str, Path]:
    """stem -> video file for the folder's videos, listed once (a WLASL folder holds ~21k files)."""
    found: dict[str, Path] = {}
    with os.scandir(videos) as it:
        for entry in it:
            suffix = os.path.splitext(entry.name)[1].lower()
            if suffix in CLIP_SUFFIXES and entry.is_file():
                stem = entry.name[: -len(suffix)]
                # .mp4 wins when a clip exists in several containers: it is what WLASL's scripts write.
                if stem not in found or suffix == ".mp4":
                    found[stem] = Path(entry.path)
    return found
