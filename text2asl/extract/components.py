"""What MediaPipe Holistic found, per component: a table of points and detection rates, and a per-frame raster plot.

A holistic `.pose` file is several models' output side by side (body, face mesh, two hands, and
in fresh extractions the body again in metres, POSE_WORLD). They fail independently: the face is
found in almost every frame, a hand vanishes when it moves fast, blurs or leaves the frame. This
module makes that visible for one extraction, so a notebook (or a user checking their own clips)
sees at a glance which parts of a sign are trustworthy.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

# The image-space components every variant shares, in drawing order for the raster plot.
IMAGE_COMPONENTS = ("POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS")
_LABELS = {"POSE_LANDMARKS": "body", "FACE_LANDMARKS": "face", "LEFT_HAND_LANDMARKS": "left hand",
           "RIGHT_HAND_LANDMARKS": "right hand", "POSE_WORLD_LANDMARKS": "body (world, m)"}


def _components(pose) -> list[tuple[str, np.ndarray]]:
    """[(component name, (T, points) bool detected)] in file order, for a `pose_format.Pose` or a `PoseArray`."""
    if hasattr(pose, "conf"):  # a canonical PoseArray: the four image components
        from text2asl.poses.layout import COMPONENTS

        present, out, start = pose.conf > 0, [], 0
        for name, n in COMPONENTS:
            out.append((name, present[:, start : start + n]))
            start += n
        return out
    conf = np.asarray(np.ma.getdata(pose.body.confidence))[:, 0]  # first person
    out, start = [], 0
    for component in pose.header.components:
        n = len(component.points)
        out.append((component.name, conf[:, start : start + n] > 0))
        start += n
    return out


def component_table(pose) -> list[dict]:
    """One row per component of a holistic `Pose` (or `PoseArray`).

    Keys: component, label, points (in the layout), frames_detected (frames with any of its
    points), rate (frames_detected / frames), points_when_found (mean points present in those frames).
    """
    rows = []
    for name, present in _components(pose):
        found = present.any(axis=1)
        n_found = int(found.sum())
        rows.append({
            "component": name,
            "label": _LABELS.get(name, name.lower()),
            "points": int(present.shape[1]),
            "frames_detected": n_found,
            "rate": n_found / max(1, len(present)),
            "points_when_found": float(present[found].sum(axis=1).mean()) if n_found else 0.0,
        })
    return rows


def components_markdown(pose) -> str:
    """`component_table` as a markdown table (for `IPython.display.Markdown` or a report)."""
    rows = component_table(pose)
    n = len(_components(pose)[0][1]) if rows else 0
    lines = [f"| component | points | frames detected (of {n}) | rate | points found when detected |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['label']} (`{r['component']}`) | {r['points']} | {r['frames_detected']} | {r['rate']:.0%} "
                     f"| {r['points_when_found']:.0f} |")
    return "\n".join(lines)


def found_fraction(pose, components: Sequence[str] = IMAGE_COMPONENTS) -> tuple[list[str], np.ndarray]:
    """(labels, (len(components), T) float32): per frame, the share of each component's points detected.

    Components the file lacks are skipped (e.g. a 543-point file has no POSE_WORLD).
    """
    parts = dict(_components(pose))
    names = [c for c in components if c in parts]
    if not names:
        raise ValueError(f"the pose has none of the components {', '.join(components)}")
    rows = np.stack([parts[c].mean(axis=1) for c in names]).astype(np.float32)
    return [_LABELS.get(c, c.lower()) for c in names], rows


def plot_components(pose, fps: float | None = None, ax=None, components: Sequence[str] = IMAGE_COMPONENTS):
    """Raster of `found_fraction`: one row per component, one column per frame, colour = share of
    points found (white = missing). x in seconds when the fps is known. Returns the matplotlib Axes."""
    import matplotlib.pyplot as plt

    labels, rows = found_fraction(pose, components)
    fps = fps or getattr(pose, "fps", None) or getattr(getattr(pose, "body", None), "fps", None)
    t = rows.shape[1]
    ax = ax or plt.figure(figsize=(10, 0.45 * len(labels) + 1.2)).gca()
    extent = (0, t / fps if fps else t, len(labels) - 0.5, -0.5)
    image = ax.imshow(rows, aspect="auto", interpolation="nearest", cmap="Greens", vmin=0, vmax=1, extent=extent)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("time (s)" if fps else "frame")
    ax.set_title("points detected per frame and component")
    ax.figure.colorbar(image, ax=ax, fraction=0.03, pad=0.01, label="share of points")
    return ax
