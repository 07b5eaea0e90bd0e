"""The astronaut sample clip: real frames that differ, a playable H.264 file, and MediaPipe finds her in it."""
from __future__ import annotations

import numpy as np
import pytest

from text2asl.extract.sample_video import astronaut, astronaut_frames, astronaut_video


def test_frames_are_the_photo_drifting_sideways():
    frames = astronaut_frames(3, size=64, shift=4)
    assert [f.shape for f in frames] == [(64, 64, 3)] * 3 and frames[0].dtype == np.uint8
    np.testing.assert_array_equal(frames[0], astronaut(64))
    np.testing.assert_array_equal(frames[2], np.roll(frames[0], 8, axis=1))
    assert not np.array_equal(frames[0], frames[1])


def test_canvas_paste_and_a_photo_that_does_not_fit():
    frame = astronaut_frames(1, size=32, canvas=(80, 48), at=(40, 10))[0]
    assert frame.shape == (48, 80, 3)
    np.testing.assert_array_equal(frame[10:42, 40:72], astronaut(32))
    assert (frame[:10] == 255).all() and (frame[:, :40] == 255).all()
    with pytest.raises(ValueError, match="does not fit"):
        astronaut_frames(1, size=32, canvas=(60, 48), at=(40, 10))


def test_video_is_h264_with_its_fps_size_and_frames(tmp_path):
    from text2asl.io import read_video

    path = astronaut_video(tmp_path / "astro.mp4", n_frames=4, size=64, fps=12.0)
    frames, meta = read_video(path)
    assert (meta["codec"], meta["size"], meta["n_frames"], meta["fps"]) == ("h264", (64, 64), 4, 12.0)
    first = next(frames).astype(int)
    assert np.abs(first - astronaut(64)).mean() < 12  # lossy H.264, but the same picture


def test_holistic_finds_body_and_face_in_the_clip(tmp_path):
    pytest.importorskip("mediapipe")
    from text2asl.extract.holistic import detection_rates, extract_video

    pose = extract_video(astronaut_video(tmp_path / "astro.mp4", n_frames=3, size=256))
    rates = detection_rates(pose)
    assert rates["frames"] == 3 and rates["body"] == 1.0 and rates["face"] == 1.0
    from text2asl.extract.components import component_table

    table = {r["component"]: r for r in component_table(pose)}
    assert list(table)[-1] == "POSE_WORLD_LANDMARKS" and table["POSE_WORLD_LANDMARKS"]["points"] == 33
    assert table["FACE_LANDMARKS"]["points_when_found"] == 468
