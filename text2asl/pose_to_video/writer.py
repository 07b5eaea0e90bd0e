"""Streaming video writer: H.264 mp4 and GIF through imageio-ffmpeg's bundled ffmpeg, written atomically."""
from __future__ import annotations

import contextlib
import itertools
import queue
import subprocess
import threading
from fractions import Fraction
from pathlib import Path
from typing import Iterable

import numpy as np

from text2asl.errors import Text2ASLError
from text2asl.io import VIDEO_WRITE_SUFFIXES, atomic_path

# Encoders as (ffmpeg codec, its options). FLAT_ENCODER is for flat graphics (thin lines on a plain
# background), which the skeleton renderer asks for; PHOTO_ENCODER, the default, is for camera-like
# frames (overlays, the diffusion renderer). The encoder is what a whole translate waits on, and at
# 512x512 a held (repeated) frame costs it more than half as much as a new one. Measured on the
# paragraph benchmark, CPU seconds per 1,000 frames: x264 veryfast 1.95, x264 ultrafast 1.0,
# OpenH264 0.75, with OpenH264 at constant QP still above veryfast/CRF 23 in PSNR (47.7 vs 46.4 dB)
# and 1.7x its size. OpenH264 writes Constrained Baseline H.264, which every browser plays. An ffmpeg
# build without it falls back to x264 ultrafast.
FLAT_ENCODER = ("libopenh264", ("-rc_mode", "off"))
FLAT_FALLBACK = ("libx264", ("-preset", "ultrafast", "-crf", "30", "-x264-params", "cabac=1"))
PHOTO_ENCODER = ("libx264", ("-preset", "veryfast", "-crf", "23"))


def write_video(
    frames: Iterable[np.ndarray],
    path: str | Path,
    fps: float,
    crf: int | None = None,
    preset: str | None = None,
    *,
    encoder: tuple[str, tuple[str, ...]] = PHOTO_ENCODER,
    repeats_unchanged: bool = False,
    size: tuple[int, int] | None = None,
) -> Path:
    """Stream (H, W, 3) uint8 RGB frames into an H.264 yuv420p .mp4 (browser-playable) or a .gif.

    Frames go to ffmpeg one at a time, so memory does not grow with the video's length. The file
    appears under `path` only when complete. Returns `path`. H and W must be even for mp4.
    `encoder` is (ffmpeg codec, options); giving `crf` or `preset` asks for x264 with them. With
    `repeats_unchanged`, the caller promises not to change a frame once yielded, so a frame that is
    the same object as the one before is converted only once (the skeleton renderer yields a held
    pose's frame again that way). `size` (width, height), when the caller knows it, starts ffmpeg
    before the first frame is made, so that its start-up (~20 ms) overlaps the caller's (a renderer
    importing OpenCV and stitching its first sign); frames of another size are refused.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_WRITE_SUFFIXES:
        raise Text2ASLError(f"cannot write {path}: video output must end in {' or '.join(VIDEO_WRITE_SUFFIXES)}")
    if suffix == ".mp4" and (crf is not None or preset is not None):
        encoder = ("libx264", ("-preset", preset or "veryfast", "-crf", str(23 if crf is None else crf)))
    if suffix == ".mp4":
        look_up_encoder(encoder[0])  # answered while the first frame is drawn
    it = iter(frames)
    if size is None:  # the first frame says
        first = next(it, None)
        if first is None:
            raise Text2ASLError(f"no frames to write to {path}")
        size, it = (first.shape[1], first.shape[0]), itertools.chain([first], it)
    w, h = size
    if suffix == ".mp4" and (h % 2 or w % 2):
        raise Text2ASLError(f"cannot write {path}: H.264 needs an even width and height, the frames are {w}x{h}")
    # The feeder thread sends a frame after the caller has moved on: a frame is copied (GIF) or
    # converted (mp4) here unless the caller promises (repeats_unchanged) not to change frames it has
    # yielded; then the feeder converts it, beside the caller's drawing (OpenCV releases the GIL).
    convert = _rgb_to_i420 if suffix == ".mp4" else np.ascontiguousarray if repeats_unchanged else np.array
    if suffix == ".mp4":
        codec, options = encoder if has_encoder(encoder[0]) else FLAT_FALLBACK
        # Frames cross the pipe already in yuv420p (OpenCV's SIMD BT.601 limited-range conversion,
        # what ffmpeg would do): half the bytes, and ffmpeg skips its slower swscale step.
        # Measured: 1.7 instead of 2.9 ms per 512x512 frame, same file size.
        pix_fmt_in, output = "yuv420p", ["-vcodec", codec, "-pix_fmt", "yuv420p", *options, "-movflags", "+faststart"]
    else:
        pix_fmt_in, output = "rgb24", ["-vcodec", "gif", "-pix_fmt", "rgb8", "-loop", "0"]
    with atomic_path(path) as tmp:
        writer = _FFmpeg(tmp, (int(w), int(h)), fps, pix_fmt_in, output)
        try:
            depth = max(4, min(32, QUEUE_BYTES // (w * h * 3)))  # 32 frames at 512x512, 4 at the largest sizes
            with _Feeder(writer, convert if repeats_unchanged else None, depth) as feed:
                n = 0
                last = converted = None
                for frame in it:
                    if not (repeats_unchanged and frame is last):
                        if frame.shape[:2] != (h, w):
                            raise Text2ASLError(f"cannot write {path}: frame {n} is {frame.shape[1]}x{frame.shape[0]}, "
                                                f"the video is {w}x{h}")
                        last, converted = frame, frame if repeats_unchanged else convert(frame)
                    feed.put(converted)
                    n += 1
            if n == 0:  # only with a given size: otherwise the first frame was checked above
                raise Text2ASLError(f"no frames to write to {path}")
        except BaseException:
            writer.kill()  # the error in flight is what the user sees; the file is discarded
            raise
        writer.close()
    return path


class _FFmpeg:
    """imageio-ffmpeg's bundled ffmpeg encoding raw frames from a pipe into `path`.

    What `imageio_ffmpeg.write_frames` does, but started and waited for differently (measured on a
    sentence): it starts ffmpeg with a preexec_fn (os.setpgrp), which makes Python fork the whole
    process instead of spawning (5 ms), after which every page the renderer writes is copied once
    (7,700 page faults for 30 MB of frames); and it polls for ffmpeg's exit in 10 ms sleeps. Here
    ffmpeg gets its own session as it starts (no Ctrl-C of ours reaches it mid-frame, as there),
    and closing waits for its exit and checks its status.
    """

    def __init__(self, path: Path, size: tuple[int, int], fps: float, pix_fmt_in: str, output: list[str]):
        import imageio_ffmpeg

        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "fatal",  # our own sentence reports a failure
               "-f", "rawvideo", "-vcodec", "rawvideo", "-s", f"{size[0]}x{size[1]}", "-pix_fmt", pix_fmt_in,
               "-r", str(Fraction(fps).limit_denominator()), "-i", "-", "-an", *output, str(path)]
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:  # not there, or not a program: not the output's fault
            raise Text2ASLError(f"cannot run ffmpeg ({cmd[0]}): {exc.strerror or exc}; reinstall imageio-ffmpeg, "
                                "or set IMAGEIO_FFMPEG_EXE to a working ffmpeg") from None

    def send(self, frame: np.ndarray) -> None:
        """Write one frame (C-contiguous) to ffmpeg; OSError if ffmpeg has stopped."""
        try:
            self._proc.stdin.write(frame)
        except BrokenPipeError:
            raise OSError(f"ffmpeg stopped with status {self._proc.wait()}") from None

    def close(self) -> None:
        """End the input and wait for ffmpeg to finish the file; OSError if it failed."""
        with contextlib.suppress(BrokenPipeError):  # ffmpeg stopped early: its status says so
            self._proc.stdin.close()
        code = self._proc.wait()
        if code:
            raise OSError(f"ffmpeg stopped with status {code}")

    def kill(self) -> None:
        """Stop ffmpeg at once (its file is being discarded)."""
        self._proc.kill()
        with contextlib.suppress(OSError):
            self._proc.stdin.close()
        self._proc.wait()


_ENCODERS: dict[str, bool] = {"libx264": True}
_LOOKUPS: dict[str, threading.Thread] = {}


def look_up_encoder(codec: str) -> None:
    """Start finding ffmpeg and asking whether it has `codec` (OpenH264 is in the usual builds), in a thread.

    Both are ffmpeg runs that a caller would otherwise wait for: imageio-ffmpeg checks its bundled
    binary by running it the first time it is asked for it (~20 ms), and the encoder list is another
    run. A caller with other work first (the translate command: imports and translation) starts this
    early; `write_video` starts it before drawing the first frame. Once per process. Not a daemon
    thread: the process never exits with an ffmpeg run of its own left behind.
    """
    if codec in _ENCODERS or codec in _LOOKUPS:
        return
    thread = threading.Thread(target=_look_up, args=(codec,), name=f"ffmpeg-{codec}")
    _LOOKUPS[codec] = thread
    thread.start()


def _look_up(codec: str) -> None:
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()  # remembered by imageio-ffmpeg for the process
        probe = subprocess.run([exe, "-hide_banner", "-h", f"encoder={codec}"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        _ENCODERS[codec] = probe.returncode == 0 and "not recognized" not in probe.stdout
    except (OSError, RuntimeError):  # no ffmpeg at all: writing says so, in the caller's thread
        _ENCODERS[codec] = False


def has_encoder(codec: str) -> bool:
    """Whether the bundled ffmpeg has `codec` (waits for `look_up_encoder`'s answer)."""
    look_up_encoder(codec)
    if codec in _LOOKUPS:
        _LOOKUPS[codec].join()
    return _ENCODERS.get(codec, False)  # False also where the look-up itself failed


QUEUE_BYTES = 32 << 20  # what frames waiting for ffmpeg may hold
ABORT_WAIT_S = 10  # on failure, how long the feeder may take to hand back the frame it is sending


class _Feeder:
    """Sends frames to ffmpeg from a second thread, so drawing the next frame overlaps encoding.

    A pipe write releases the GIL and blocks while ffmpeg is busy: without the thread, the caller
    would wait there instead of drawing. `convert`, when given, is applied here, once per distinct
    frame object. The queue is bounded; a held frame queued again is the same object and costs no
    memory, so its depth lets the caller draw on while ffmpeg encodes a hold (measured: the caller
    waited 0.04 s of a 0.6 s sentence at depth 4). An error in the thread (ffmpeg died) is raised in
    the caller at its next `put` or on exit.
    """

    def __init__(self, writer, convert=None, depth: int = 4):
        self._writer = writer
        self._convert = convert
        self._queue: queue.Queue = queue.Queue(depth)
        self._error: BaseException | None = None
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="text2asl-ffmpeg-feeder", daemon=True)

    def __enter__(self) -> "_Feeder":
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            last = converted = None
            while (item := self._queue.get()) is not None and not self._stop:
                if self._convert is not None and item is not last:
                    last, converted = item, self._convert(item)
                self._writer.send(item if self._convert is None else converted)
        except BaseException as exc:  # handed to the caller, which owns the error reporting
            self._error = exc
            while self._queue.get() is not None:  # keep draining so `put` never blocks
                pass

    def put(self, frame: np.ndarray) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(frame)

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is not None:  # failing (a signal, Ctrl-C, a bad frame): drop the queued frames, never block here
            self._stop = True
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                pass
            self._thread.join(timeout=ABORT_WAIT_S)
            return
        self._queue.put(None)
        self._thread.join()
        if self._error is not None and exc is None:
            raise self._error


def _rgb_to_i420(frame: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(frame[..., :3]), cv2.COLOR_RGB2YUV_I420)
