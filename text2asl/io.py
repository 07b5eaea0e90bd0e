"""File I/O every stage shares: atomic writes, output-path checks, reading videos, writing .pose files."""
from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Iterable, Iterator

import numpy as np

from text2asl.errors import Text2ASLError

# Formats the package writes: videos, and videos plus .pose files.
VIDEO_WRITE_SUFFIXES = (".mp4", ".gif")
OUTPUT_SUFFIXES = (".mp4", ".gif", ".pose")
# Camera recordings that extraction and the dataset adapters pick up from a folder.
CLIP_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v")
# Anything `read_video` decodes for evaluation: recordings and the package's own GIFs.
VIDEO_READ_SUFFIXES = CLIP_SUFFIXES + (".gif",)


def contained_path(folder: Path, name: str, where: str, what: str = "folder") -> Path:
    """`folder / name` for a path read from a user's file, refusing names that are absolute or lead outside.

    `where` names the file and row for the message (e.g. "index.csv line 3"), `what` the folder
    ("lexicon folder"). Symlinks the user placed inside the folder are followed as they are: the
    check is on the name the file gives. Used for every path read from metadata: index.csv,
    labels.csv, WLASL / ASL Citizen, metadata.jsonl.
    """
    name = str(name).strip()
    if not name:
        raise Text2ASLError(f"{where} gives an empty path; fix the file")
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or name.startswith(("/", "\\")):
        raise Text2ASLError(f"{where} gives the absolute path {name!r}; refused: paths must be relative to the {what}")
    parts = set(posix.parts) | set(windows.parts)
    if ".." in parts or os.path.normpath(name).startswith(".."):
        raise Text2ASLError(f"{where} gives the path {name!r}, which leaves the {what}; refused")
    return Path(folder) / name


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


def write_pose_stream(chunks: Iterable, path: str | Path, fps: float) -> Path:
    """Write a stream of `PoseArray` chunks (or (chunk, anything) pairs) as one `.pose` file, atomically.

    The same bytes as `write_pose(to_pose(concatenated chunks))`, but memory stays that of one
    chunk. pose-format can only write a whole `Pose`, and its v0.2 body is every frame's points,
    then every frame's confidences, behind a frame count. So the points go straight to the file,
    the confidences to a spool file beside it (a third of the size) that is appended at the end,
    and the frame count is patched in last.
    """
    import shutil
    import struct
    import tempfile

    from text2asl.poses.layout import pose_header

    path = Path(path)
    frames = 0
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh, tempfile.TemporaryFile(dir=tmp.parent, prefix=f".{path.stem}.", suffix=".conf") as conf:
            body_at = None
            for chunk in chunks:
                arr = chunk[0] if isinstance(chunk, tuple) else chunk
                if body_at is None:
                    pose_header(arr.size).write(fh)
                    body_at = fh.tell()
                    fh.write(struct.pack("<fIH", fps, 0, 1))  # fps, frame count (patched below), people
                fh.write(np.ascontiguousarray(arr.xyz, np.float32).tobytes())
                conf.write(np.ascontiguousarray(arr.conf, np.float32).tobytes())
                frames += len(arr)
            if body_at is None:
                raise Text2ASLError(f"no frames to write to {path}")
            conf.seek(0)
            shutil.copyfileobj(conf, fh, 1 << 20)
            fh.seek(body_at + 4)
            fh.write(struct.pack("<I", frames))
    return path
