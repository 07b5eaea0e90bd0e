"""MediaPipe Holistic on video frames -> a standard `pose_format.Pose` (holistic layout, pixel coordinates).

The model is the legacy `mediapipe.solutions.holistic` solution with `model_complexity=1`, the only
one whose weights ship inside the pinned mediapipe wheel (0 and 2 try to download). It is called
through `pose_format.utils.holistic.load_holistic`, so the file is exactly what pose-format's own
`video_to_pose` writes: 576 points (POSE 33, FACE 468, LEFT/RIGHT hand 21, POSE_WORLD 33), XYZC,
x/y in pixels of the full source frame, the video's fps and (width, height) in the header.
What this module adds around it: streaming frames (memory does not grow with video length), frame
ranges in frames or milliseconds, a person bounding box whose crop coordinates are mapped back to
the full frame, and failures a batch can classify (`ExtractionError.reason`).
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from text2asl.errors import Text2ASLError
from text2asl.poses.layout import BODY, N_POINTS

# The legacy solution's only bundled weights; other complexities need a download that fails offline.
HOLISTIC_CONFIG = {"model_complexity": 1, "static_image_mode": False}

# The image-space components of pose-format's holistic layout come first (POSE_WORLD is not image space).
_IMAGE_POINTS = slice(0, N_POINTS)

# Failure reasons a batch reports; stable strings, so a failures report can be filtered by them.
REASONS = ("missing", "zero-byte", "unreadable", "corrupt", "no-frames", "no-person", "error")


class ExtractionError(Text2ASLError):
    """One video could not be turned into poses; `reason` is one of `REASONS`."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Clip:
    """Which part of a video to extract.

    start_frame/end_frame: 0-based, end exclusive (None = from the start / to the end).
    start_ms/end_ms: the same range in milliseconds, converted with the video's fps; used only
    where the frame bound is None.
    bbox: (x0, y0, x1, y1) person box in pixels of the full frame, or None for the whole frame.
    """

    start_frame: int | None = None
    end_frame: int | None = None
    start_ms: float | None = None
    end_ms: float | None = None
    bbox: tuple[float, float, float, float] | None = None

    def frame_range(self, fps: float) -> tuple[int, int | None]:
        """(start, end) 0-based frame indices, end exclusive or None, for a video at `fps`."""
        start = self.start_frame
        if start is None:
            start = int(round(self.start_ms * fps / 1000.0)) if self.start_ms else 0
        end = self.end_frame
        if end is None and self.end_ms:
            end = int(round(self.end_ms * fps / 1000.0))
        return max(0, int(start)), (None if end is None else int(end))


def _import_holistic():
    """pose-format's holistic wrapper, with MediaPipe's C++ logging quietened and an install hint."""
    # Set before mediapipe loads: its glog/TFLite banners otherwise flood every worker's stderr.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from pose_format.utils import holistic
    except ImportError as exc:
        raise ImportError(
            "pose extraction needs MediaPipe: pip install 'text2asl[extract]' (mediapipe==0.10.21)"
        ) from exc
    if not _WARM:
        _warm_up(holistic)
    return holistic


_WARM: list[bool] = []


def _warm_up(holistic) -> None:
    """Start this process's Holistic graph on a blank frame with native stderr muted.

    MediaPipe's C++ side prints a dozen absl/TFLite banners while it loads its models (GLOG
    variables do not reach absl), once per process: in a batch that is a screenful per worker
    above the progress bar. Loading them here, with file descriptor 2 pointed at /dev/null for
    those few milliseconds, keeps the console readable; the warm graph goes back to
    pose-format's pool, so the first real video reuses it.
    """
    config = dict(HOLISTIC_CONFIG)
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            graphs = holistic.HolisticPool.acquire(1, config)
            graphs[0].process(np.full((64, 64, 3), 255, np.uint8))
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    holistic.HolisticPool.release(graphs, config)
    _WARM.append(True)


# absl/glog info and warning lines ("W0000 00:00:... file.cc:186] ..."): MediaPipe's C++ side prints
# them on the first frame with a person (NORM_RECT without IMAGE_DIMENSIONS), and neither GLOG_minloglevel
# nor TF_CPP_MIN_LOG_LEVEL reaches absl's logging.
_NATIVE_NOISE = re.compile(rb"^[IW]\d{4} \d\d:\d\d:[\d.]+ ")


@contextlib.contextmanager
def _native_log_filtered() -> Iterator[None]:
    """Within the block, drop MediaPipe's native info/warning lines from file descriptor 2; pass the rest on.

    Errors (E/F lines) and anything Python writes still reach the terminal. Main thread only
    (fd 2 is process-wide); elsewhere the block runs unfiltered.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    saved = os.dup(2)
    os.dup2(write_end, 2)
    os.close(write_end)

    def pump() -> None:
        with os.fdopen(read_end, "rb") as pipe:
            for line in pipe:
                if not _NATIVE_NOISE.match(line):
                    os.write(saved, line)

    thread = threading.Thread(target=pump, daemon=True, name="native-log-filter")
    thread.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end: the pump sees EOF and ends
        thread.join(timeout=5)
        os.close(saved)


def crop_box(bbox, width: int, height: int) -> tuple[int, int, int, int]:
    """The bbox clamped to the frame as integer pixels (x0, y0, x1, y1); refuses an empty box."""
    x0, y0, x1, y1 = (float(v) for v in bbox)
    x0, y0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
    x1, y1 = min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1)))
    if x1 - x0 < 16 or y1 - y0 < 16:
        raise ExtractionError("error", f"bounding box {tuple(bbox)} leaves no usable area inside the {width}x{height} frame")
    return x0, y0, x1, y1


def extract_frames(
    frames: Iterable[np.ndarray],
    fps: float,
    size: tuple[int, int],
    bbox=None,
):
    """Holistic poses of a stream of frames.

    frames: iterable of (H, W, 3) uint8 RGB frames, all of size (W, H) = `size`; consumed lazily.
    bbox: optional (x0, y0, x1, y1) pixels: only that box is shown to MediaPipe (a person far
    from the camera is found more reliably), and the landmarks are mapped back to full-frame pixels.
    Returns a `pose_format.Pose` with T frames, one person, 576 points, header size = `size`.
    """
    holistic = _import_holistic()
    width, height = int(size[0]), int(size[1])
    box = crop_box(bbox, width, height) if bbox is not None else (0, 0, width, height)
    x0, y0, x1, y1 = box
    cropped = box != (0, 0, width, height)
    if cropped:
        frames = (np.ascontiguousarray(f[y0:y1, x0:x1]) for f in frames)
    _reset_pooled_graphs(holistic)
    # A fresh dict each call: load_holistic mutates the one it is given.
    with _native_log_filtered():
        pose = holistic.load_holistic(
            frames, fps=float(fps), width=x1 - x0, height=y1 - y0, additional_holistic_config=dict(HOLISTIC_CONFIG)
        )
    if cropped:
        _uncrop(pose, x0, y0, width / (x1 - x0), height / (y1 - y0))
    pose.header.dimensions.width, pose.header.dimensions.height = width, height
    return pose


def _reset_pooled_graphs(holistic) -> None:
    """Restart this process's pooled Holistic graph, so a video's landmarks do not depend on the one before.

    pose-format's pool clears a reused graph with one blank frame, which still leaves tracking and
    smoothing state behind: a clip extracted after another came out up to 4 px different from the
    same clip on a fresh graph (measured on the astronaut clips). With a graph restart (~0.1 s, the
    models stay loaded) every video gives exactly a fresh graph's landmarks, whichever worker,
    shard or order extracts it, and exactly what pose-format's `video_to_pose` writes.
    """
    config = dict(HOLISTIC_CONFIG)
    graphs = holistic.HolisticPool.acquire(1, config)
    try:
        for graph in graphs:
            graph.reset()
    finally:
        holistic.HolisticPool.release(graphs, config)


def _uncrop(pose, x0: int, y0: int, sx: float, sy: float) -> None:
    """Map crop-pixel landmarks back to the full frame, in place; missing points stay at 0."""
    data = np.ma.getdata(pose.body.data)
    present = np.asarray(pose.body.confidence)[..., _IMAGE_POINTS] > 0
    image = data[..., _IMAGE_POINTS, :]
    image[..., 0] = np.where(present, image[..., 0] + x0, 0)
    image[..., 1] = np.where(present, image[..., 1] + y0, 0)
    data[..., _IMAGE_POINTS, :] = image
    # pose-format scales POSE_WORLD by the frame size it was given; rescale to the full frame so a
    # cropped and an uncropped extraction of one video agree there too.
    data[..., N_POINTS:, 0] *= sx
    data[..., N_POINTS:, 1] *= sy


def _video_frames(path: Path, clip: Clip):
    """(frames iterator of (H, W, 3) uint8 limited to the clip's range, fps, (W, H)) for a video file."""
    from text2asl.io import read_video

    if not path.exists():
        raise ExtractionError("missing", f"video {path} does not exist")
    if path.is_dir():
        raise ExtractionError("unreadable", f"{path} is a folder, not a video file")
    if path.stat().st_size == 0:
        raise ExtractionError("zero-byte", f"video {path} is empty (0 bytes); re-download or remove it")
    try:
        frames, meta = read_video(path)
        fps = float(meta["fps"])
        width, height = (int(v) for v in meta["size"])
    except Exception as exc:  # ffmpeg reports an undecodable container in several exception types
        raise ExtractionError("unreadable", f"video {path} cannot be opened ({_short(exc)}); check the file") from None
    if not fps > 0 or width <= 0 or height <= 0:
        raise ExtractionError("unreadable", f"video {path} reports fps={fps} and size {width}x{height}; check the file")
    start, end = clip.frame_range(fps)
    # A truncated download still opens and decodes its first part without an error; only the
    # container header remembers how long it should be.
    declared = _declared_frames(path, meta, fps)

    def ranged() -> Iterator[np.ndarray]:
        index = -1
        try:
            for index, frame in enumerate(frames):
                if end is not None and index >= end:
                    return
                if index >= start:
                    yield frame
        except Exception as exc:
            raise ExtractionError("corrupt", f"video {path} stops decoding after frame {index + 1} ({_short(exc)})") from None
        finally:
            close = getattr(frames, "close", None)
            if close is not None:  # stops the ffmpeg subprocess when the range ends early
                close()
        decoded = index + 1
        if decoded < 0.8 * declared - 2 and (end is None or decoded < end):
            raise ExtractionError(
                "corrupt",
                f"video {path} decodes only {decoded} of the ~{declared:.0f} frames its header announces (truncated?); re-download it",
            )

    return ranged(), fps, (width, height)


def _declared_frames(path: Path, meta: dict, fps: float) -> float:
    """Frames the container header announces (0 if unknown), as `read_video` reads them (no decoding)."""
    if meta.get("n_frames"):
        return float(meta["n_frames"])
    return float(meta["duration"]) * fps if meta.get("duration") else 0.0


def extract_video(path: str | Path, clip: Clip | None = None):
    """Holistic poses of one video file (or the clip's frame range / person box of it).

    Returns a `pose_format.Pose` (576 points, pixel coordinates, the video's fps and size).
    Raises `ExtractionError` (a `Text2ASLError`) naming the file and the reason when the file is
    missing, empty, unreadable, corrupt, has no frames in the range, or shows no person.
    """
    path = Path(path)
    clip = clip or Clip()
    frames, fps, size = _video_frames(path, clip)
    try:
        pose = extract_frames(frames, fps, size, bbox=clip.bbox)
    except ValueError as exc:
        if "at least one array" not in str(exc):  # pose-format's message for an empty frame list
            raise
        start, end = clip.frame_range(fps)
        where = "" if clip == Clip(bbox=clip.bbox) else f" in frames [{start}, {end if end is not None else 'end'})"
        raise ExtractionError("no-frames", f"video {path} has no frames{where}; check the file or the frame range") from None
    if not (np.asarray(pose.body.confidence)[:, 0, BODY] > 0).any():
        raise ExtractionError("no-person", f"no person was found in any of the {len(pose.body.data)} frames of {path}")
    return pose


def detection_rates(pose) -> dict[str, float]:
    """Fractions of frames in which each part was detected, from a holistic `Pose`.

    Keys: frames (count), body, face, left_hand, right_hand, any_hand, both_hands (rates in [0, 1]).
    Works on any holistic variant (543/576/586 points) through the canonical layout.
    """
    from text2asl.poses.layout import BODY, FACE, LEFT_HAND, RIGHT_HAND, to_canonical

    arr = to_canonical(pose) if not hasattr(pose, "conf") else pose
    present = arr.conf > 0
    n = max(1, len(arr))
    left, right = present[:, LEFT_HAND].any(1), present[:, RIGHT_HAND].any(1)
    return {
        "frames": len(arr),
        "body": float(present[:, BODY].any(1).sum() / n),
        "face": float(present[:, FACE].any(1).sum() / n),
        "left_hand": float(left.sum() / n),
        "right_hand": float(right.sum() / n),
        "any_hand": float((left | right).sum() / n),
        "both_hands": float((left & right).sum() / n),
    }


def signing_hand_rate(pose, rest_line: float = 1.1) -> dict[str, float]:
    """How often a hand that is signing was found: frames where a body wrist is raised above the
    rest line (`rest_line` shoulder widths below the shoulders, as in `filters.active_frames`),
    counted per hand, and the share of those where that hand's 21 landmarks were detected.

    The body model tracks the wrists even when the hand model loses the hand, so the raised
    frames do not depend on the hand detector being judged. A hand resting at the side or out
    of frame is not counted against it. Returns {"raised": n, "found": k, "rate": k / n}.
    """
    from text2asl.poses.layout import LEFT_HAND, LEFT_WRIST, RIGHT_HAND, RIGHT_WRIST, to_canonical
    from text2asl.poses.normalize import normalize

    arr = to_canonical(pose) if not hasattr(pose, "conf") else pose
    norm = normalize(arr)
    raised = found = 0
    for wrist, hand in ((LEFT_WRIST, LEFT_HAND), (RIGHT_WRIST, RIGHT_HAND)):
        up = (arr.conf[:, wrist] > 0.5) & (norm.xyz[:, wrist, 1] < rest_line)
        raised += int(up.sum())
        found += int((up & (arr.conf[:, hand] > 0).any(axis=1)).sum())
    return {"raised": raised, "found": found, "rate": found / raised if raised else 0.0}


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1][:160]}" if text else type(exc).__name__
