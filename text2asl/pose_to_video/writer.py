"""Atomic, streaming writers: H.264 mp4 and GIF through imageio-ffmpeg's bundled ffmpeg, and .pose files."""
from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from text2asl.errors import Text2ASLError

VIDEO_SUFFIXES = (".mp4", ".gif")
OUTPUT_SUFFIXES = (".mp4", ".gif", ".pose")


def check_output_path(path: str | Path, suffixes: tuple[str, ...] = OUTPUT_SUFFIXES) -> Path:
    """Fail early, in one sentence, if `path` cannot be written: wrong extension, missing or read-only folder."""
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        raise Text2ASLError(f"cannot write {path}: unknown output extension {path.suffix or '(none)'!r}; use one of {', '.join(suffixes)}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        raise Text2ASLError(f"cannot write {path}: folder {folder} does not exist; create it first")
    if not folder.is_dir():
        raise Text2ASLError(f"cannot write {path}: {folder} is not a folder")
    if path.is_dir():
        raise Text2ASLError(f"cannot write {path}: it is a folder; give a file name like {path / 'out.mp4'}")
    with atomic_path(path) as tmp:  # the only reliable test (root ignores permission bits, read-only mounts)
        tmp.touch()
        raise _Probe
    return path  # pragma: no cover


class _Probe(Exception):
    """Aborts the probe write in `check_output_path` so nothing is left behind."""


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path beside `path`; rename it onto `path` on success, delete it on any error.

    The temp name keeps the suffix so tools that pick a format by extension (ffmpeg) work, and it
    is hidden so a half-written file is never mistaken for a result.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.partial{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except _Probe:
        tmp.unlink(missing_ok=True)
        return
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise Text2ASLError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_video(frames: Iterable[np.ndarray], path: str | Path, fps: float, crf: int = 23, preset: str = "veryfast") -> Path:
    """Stream (H, W, 3) uint8 RGB frames into an H.264 yuv420p .mp4 (browser-playable) or a .gif.

    Frames go to ffmpeg one at a time, so memory does not grow with the video's length. The file
    appears under `path` only when complete. Returns `path`. H and W must be even for mp4.
    """
    import imageio_ffmpeg

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise Text2ASLError(f"cannot write {path}: video output must end in {' or '.join(VIDEO_SUFFIXES)}")
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise Text2ASLError(f"no frames to write to {path}")
    h, w = first.shape[:2]
    if suffix == ".mp4" and (h % 2 or w % 2):
        raise Text2ASLError(f"cannot write {path}: H.264 needs an even width and height, the frames are {w}x{h}")
    convert = _rgb_to_i420 if suffix == ".mp4" else np.ascontiguousarray
    if suffix == ".mp4":
        # Frames cross the pipe already in yuv420p (OpenCV's SIMD BT.601 limited-range conversion,
        # what ffmpeg would do): half the bytes, and ffmpeg skips its slower swscale step.
        # Measured: 1.7 instead of 2.9 ms per 512x512 frame, same file size.
        kwargs = dict(codec="libx264", pix_fmt_out="yuv420p", quality=None,
                      pix_fmt_in="yuv420p",
                      output_params=["-preset", preset, "-crf", str(crf), "-movflags", "+faststart"])
    else:
        kwargs = dict(codec="gif", pix_fmt_out="rgb8", quality=None, output_params=["-loop", "0"])
    with atomic_path(path) as tmp:
        writer = imageio_ffmpeg.write_frames(str(tmp), (w, h), fps=fps, macro_block_size=1,
                                             ffmpeg_log_level="error", **kwargs)
        writer.send(None)
        try:
            writer.send(convert(first))
            for frame in it:
                writer.send(convert(frame))
        finally:
            writer.close()
    return path


def _rgb_to_i420(frame: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(frame[..., :3]), cv2.COLOR_RGB2YUV_I420)


def read_video(path: str | Path) -> tuple[Iterator[np.ndarray], dict]:
    """(frames, meta) of a video: frames is an iterator of (H, W, 3) uint8 RGB.

    meta: fps, size (w, h), n_frames (from the container header, decoding only when the header
    has no count), duration (s, from the header) and codec.
    """
    import imageio_ffmpeg

    path = Path(path)
    if not path.is_file():
        raise Text2ASLError(f"video {path} does not exist")
    gen = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = gen.__next__()
    except Exception as exc:
        raise Text2ASLError(f"{path} is not a readable video ({str(exc).splitlines()[0][:120]})") from None
    w, h = meta["size"]
    info = {"fps": float(meta["fps"]), "size": (int(w), int(h)), "n_frames": _header_frame_count(path),
            "duration": meta.get("duration"), "codec": meta.get("codec")}
    if not info["n_frames"]:
        info["n_frames"] = int(imageio_ffmpeg.count_frames_and_secs(str(path))[0])

    def frames() -> Iterator[np.ndarray]:
        for raw in gen:
            yield np.frombuffer(raw, np.uint8).reshape(h, w, 3)

    return frames(), info


def _header_frame_count(path: Path) -> int:
    """Frame count stored in the container (no decoding); 0 when the container does not say."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        return max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT))) if cap.isOpened() else 0
    finally:
        cap.release()


def write_pose(pose, path: str | Path) -> Path:
    """Write a `pose_format.Pose` atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            pose.write(fh)
    return path
