"""Per-component detection table and raster: counts match the file's masks, for Pose files and PoseArrays."""
from __future__ import annotations

import numpy as np
import pytest

from text2asl.extract.components import component_table, components_markdown, found_fraction, plot_components
from text2asl.poses.layout import FACE, LEFT_HAND, RIGHT_HAND, PoseArray, to_pose


def _sign(frames: int = 10) -> PoseArray:
    """Body and face in every frame, the right hand in frames 2-7 with 20 of 21 points, no left hand."""
    conf = np.zeros((frames, 543), np.float32)
    conf[:, :33] = 1
    conf[:, FACE] = 1
    conf[2:8, RIGHT_HAND] = 1
    conf[2:8, RIGHT_HAND.start] = 0
    xyz = np.random.default_rng(0).uniform(10, 100, (frames, 543, 3)).astype(np.float32)
    return PoseArray(xyz, conf, 25.0, (128, 128))


def test_table_counts_frames_rates_and_points_per_component():
    rows = {r["label"]: r for r in component_table(_sign())}
    assert list(rows) == ["body", "face", "left hand", "right hand"]
    assert (rows["body"]["points"], rows["face"]["points"], rows["right hand"]["points"]) == (33, 468, 21)
    assert rows["body"]["rate"] == 1.0 and rows["left hand"]["frames_detected"] == 0
    assert rows["right hand"]["frames_detected"] == 6 and rows["right hand"]["rate"] == pytest.approx(0.6)
    assert rows["right hand"]["points_when_found"] == 20
    assert rows["left hand"]["points_when_found"] == 0.0


def test_a_pose_file_gives_the_same_table_as_its_canonical_array():
    arr = _sign()
    from_pose = component_table(to_pose(arr))
    assert [r["component"] for r in from_pose] == ["POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"]
    assert from_pose == component_table(arr)
    text = components_markdown(arr)
    assert "frames detected (of 10)" in text and "| right hand (`RIGHT_HAND_LANDMARKS`) | 21 | 6 | 60% | 20 |" in text


def test_found_fraction_per_frame_and_the_raster_plot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arr = _sign()
    labels, rows = found_fraction(arr)
    assert labels == ["body", "face", "left hand", "right hand"] and rows.shape == (4, 10)
    np.testing.assert_allclose(rows[3], [0, 0] + [20 / 21] * 6 + [0, 0], rtol=1e-6)
    assert (rows[2] == 0).all() and (rows[0] == 1).all()
    with pytest.raises(ValueError, match="none of the components"):
        found_fraction(arr, ["POSE_WORLD_LANDMARKS"])
    fig, ax = plt.subplots()
    assert plot_components(arr, ax=ax) is ax
    assert ax.get_xlabel() == "time (s)" and [t.get_text() for t in ax.get_yticklabels()] == labels
    np.testing.assert_allclose(ax.images[0].get_array(), rows)
    plt.close(fig)


def test_untouched_left_hand_keeps_its_points_out_of_the_face():
    # Guards the slicing: a left hand found only in frame 0 must not leak into the face row.
    arr = _sign()
    arr.conf[0, LEFT_HAND] = 1
    labels, rows = found_fraction(arr)
    assert rows[2, 0] == 1 and rows[2, 1:].sum() == 0 and (rows[1] == 1).all()
