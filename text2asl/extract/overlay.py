"""Skeleton overlays: the extracted landmarks drawn over the video's own frames (H.264 mp4, or one PNG frame).

The way to see what MediaPipe found: a hand that flickers, a face mesh that slips, a box that cut
off an arm. Drawing is the renderer's `draw_skeleton` and the video goes through the shared
streaming writer, so an overlay looks like every other skeleton in the project and memory does
not grow with the clip's length.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from text2asl.errors import Text2ASLError


def load_pose(pose, video: str | Path | None = None):
    """A `PoseArray` in pixel coordinates from a .pose path, a `pose_format.Pose` or a `PoseArray`;
    None extracts the video's poses now (MediaPipe, in this process)."""
    from text2asl.poses.layout import PoseArray, read_pose_file, to_canonical

    if pose is None:
        if video is None:
            raise Text2ASLError("give a .pose file or a video to extract the skeleton from")
        from text2asl.extract.holistic import extract_video

        return to_canonical(extract_video(video))
    if isinstance(pose, PoseArray):
        return pose
    if isinstance(pose, (str, Path)):
        return read_pose_file(pose)
    return to_canonical(pose)


def _prepared(arr, filtered: bool):
    """The sequence as drawn: raw detections, or gap-filled and smoothed by the shared filters."""
    if arr.meta.get("normalized"):
        raise Text2ASLError("this pose is normalised (shoulder units); an overlay needs the pixel coordinates of an extraction")
    if not filtered:
        return arr
    from text2asl.poses.filters import fill_gaps, smooth

    return smooth(fill_gaps(arr))


def overlay_frames(video: str | Path, pose=None, filtered: bool = False, thickness: int = 2) -> tuple[Iterator[np.ndarray], dict]:
    """(frames, meta): the video's frames, (H, W, 3) uint8 RGB, with the skeleton drawn on each.

    pose: .pose path / Pose / PoseArray of this video (None: extract it now). Frame i of the pose
    is drawn on frame i of the video; if the pose was extracted at another resolution its pixels
    are scaled to the video's. Frames past the end of the pose are passed through undrawn.
    filtered: draw after the shared gap filling and smoothing instead of the raw detections.
    meta: the video's fps, size, n_frames.
    """
    from text2asl.pose_to_video.render import draw_skeleton
    from text2asl.io import read_video

    video = Path(video)
    arr = _prepared(load_pose(pose, video), filtered)
    frames, meta = read_video(video)
    width, height = meta["size"]
    sx, sy = (width / arr.size[0], height / arr.size[1]) if arr.size else (1.0, 1.0)
    xy = arr.xyz[..., :2] * np.array([sx, sy], np.float32)

    def drawn() -> Iterator[np.ndarray]:
        for i, frame in enumerate(frames):
            image = np.array(frame)  # decoded frames are read-only views of ffmpeg's buffer
            if i < len(arr):
                draw_skeleton(image, xy[i], arr.conf[i], thickness=thickness)
            yield image

    return drawn(), meta


def overlay_video(video: str | Path, output: str | Path, pose=None, filtered: bool = False, thickness: int = 2) -> Path:
    """Write the overlay as an H.264 mp4 (or .gif) at the video's fps, atomically; returns `output`.

    An odd width or height is cropped by one pixel (yuv420p needs even sizes).
    """
    from text2asl.io import check_output_path
    from text2asl.pose_to_video.writer import write_video

    output = check_output_path(output, (".mp4", ".gif"))
    frames, meta = overlay_frames(video, pose, filtered, thickness)
    width, height = meta["size"]
    even = (slice(0, height - height % 2), slice(0, width - width % 2))
    return write_video((f[even] for f in frames), output, fps=meta["fps"])


def overlay_frame(video: str | Path, index: int | None = None, pose=None, filtered: bool = False, thickness: int = 2) -> np.ndarray:
    """One overlaid frame, (H, W, 3) uint8 RGB, for a notebook's `imshow`.

    index: 0-based frame; None picks the middle one of the frames where the most hand points were
    found (mid-sign; the first such frame is often a hand entering at the frame's edge).
    """
    from text2asl.poses.layout import LEFT_HAND, RIGHT_HAND

    arr = _prepared(load_pose(pose, video), filtered)
    if index is None:
        present = arr.conf > 0
        hands = present[:, LEFT_HAND].sum(1) + present[:, RIGHT_HAND].sum(1)
        best = np.flatnonzero(hands == hands.max())
        index = int(best[len(best) // 2])
    frames, meta = overlay_frames(video, arr, False, thickness)
    for i, frame in enumerate(frames):
        if i == index:
            return frame
    raise Text2ASLError(f"frame {index} is past the end of {video} ({meta.get('n_frames', i + 1)} frames)")


def save_overlay_png(video: str | Path, output: str | Path, index: int | None = None, pose=None,
                     filtered: bool = False, thickness: int = 2) -> Path:
    """Write `overlay_frame(...)` as a PNG, atomically; returns `output`."""
    import imageio.v3 as iio

    from text2asl.io import atomic_path

    output = Path(output)
    if output.suffix.lower() != ".png":
        raise Text2ASLError(f"cannot write {output}: a single overlaid frame is saved as .png")
    if not output.parent.is_dir():
        raise Text2ASLError(f"cannot write {output}: folder {output.parent} does not exist; create it first")
    image = overlay_frame(video, index, pose, filtered, thickness)
    with atomic_path(output) as tmp:
        iio.imwrite(tmp, image)
    return output
