"""MediaPipe Holistic extraction on real images offline: the astronaut photo, a synthetic video of it, every failure case."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mediapipe")

from pose_format import Pose  # noqa: E402

from text2asl.cli import main  # noqa: E402
from text2asl.errors import Text2ASLError  # noqa: E402
from text2asl.extract.holistic import Clip, ExtractionError, detection_rates, extract_frames, extract_video  # noqa: E402
from text2asl.poses.layout import BODY, FACE, read_pose_file  # noqa: E402
from text2asl.extract.sample_video import astronaut, astronaut_video  # noqa: E402


make_video = astronaut_video  # other test modules import it from here


def test_astronaut_photo_gives_33_body_and_468_face_points():
    img = astronaut(512)
    pose = extract_frames([img, img], fps=25, size=(512, 512))
    assert [c.name for c in pose.header.components] == [
        "POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS", "POSE_WORLD_LANDMARKS"]
    assert pose.body.data.shape == (2, 1, 576, 3)
    assert (pose.header.dimensions.width, pose.header.dimensions.height) == (512, 512)
    assert pose.body.fps == 25
    arr = read_pose_file_from(pose)
    present = arr.conf[0] > 0
    assert present[BODY].sum() == 33
    assert present[FACE].sum() == 468
    # Pixel coordinates: the nose lies on the face, inside the image.
    nose = arr.xyz[0, 0, :2]
    assert 150 < nose[0] < 300 and 50 < nose[1] < 200, nose
    rates = detection_rates(pose)
    assert rates["body"] == 1.0 and rates["face"] == 1.0


def read_pose_file_from(pose):
    """Round trip through the .pose bytes a file would hold, then into the canonical layout."""
    import io

    from text2asl.poses.layout import to_canonical

    buf = io.BytesIO()
    pose.write(buf)
    return to_canonical(Pose.read(buf.getvalue()))


def test_bbox_crop_maps_landmarks_back_to_the_full_frame():
    img = astronaut(256)
    canvas = np.full((400, 500, 3), 255, np.uint8)
    canvas[100:356, 200:456] = img
    plain = extract_frames([img], fps=10, size=(256, 256))
    boxed = extract_frames([canvas], fps=10, size=(500, 400), bbox=(200, 100, 456, 356))
    assert (boxed.header.dimensions.width, boxed.header.dimensions.height) == (500, 400)
    a = np.asarray(plain.body.data)[0, 0, :501, :2]
    b = np.asarray(boxed.body.data)[0, 0, :501, :2]
    # MediaPipe saw identical pixels, so the full-frame landmarks are the crop's plus the offset.
    np.testing.assert_allclose(b, a + [200, 100], atol=0.5)


def test_clip_frame_ranges_in_frames_and_milliseconds():
    assert Clip().frame_range(25) == (0, None)
    assert Clip(start_ms=1000, end_ms=2000).frame_range(25) == (25, 50)
    assert Clip(start_frame=3, end_frame=9, start_ms=1000).frame_range(25) == (3, 9)
    assert Clip(start_ms=500).frame_range(29.97) == (15, None)


def test_synthetic_video_through_extract_cli_end_to_end(tmp_path):
    video = make_video(tmp_path / "astro.mp4", n_frames=4, fps=10)
    out = tmp_path / "poses"
    assert main(["extract", str(video), "-o", str(out), "-j", "1", "-q"]) == 0
    pose = Pose.read((out / "astro.pose").read_bytes())
    assert pose.body.data.shape[:3] == (4, 1, 576)
    assert pose.body.fps == pytest.approx(10)
    assert (pose.header.dimensions.width, pose.header.dimensions.height) == (256, 256)
    arr = read_pose_file(out / "astro.pose")
    assert (arr.conf[:, BODY] > 0).all(axis=1).all()
    assert not (out / "failures.csv").exists()
    assert not list(out.glob(".*partial*"))
    # A frame range keeps only those frames.
    assert main(["extract", str(video), "-o", str(tmp_path / "ranged"), "-j", "1", "-q", "--start-frame", "1", "--end-frame", "3"]) == 0
    assert len(read_pose_file(tmp_path / "ranged" / "astro.pose")) == 2


def test_every_failure_is_reported_with_its_reason_and_the_batch_goes_on(tmp_path):
    from text2asl.pose_to_video.writer import write_video

    make_video(tmp_path / "good.mp4", n_frames=2)
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "garbage.mp4").write_bytes(b"this is not a video " * 50)
    write_video([np.full((64, 64, 3), 230, np.uint8)] * 3, tmp_path / "blank.mp4", fps=10)
    long = make_video(tmp_path / "long.mp4", n_frames=60, size=128, shift=3)
    data = long.read_bytes()
    (tmp_path / "truncated.mp4").write_bytes(data[: len(data) // 2])
    long.unlink()
    out = tmp_path / "poses"
    args = ["extract", *(str(tmp_path / n) for n in
                         ("good.mp4", "empty.mp4", "garbage.mp4", "blank.mp4", "truncated.mp4", "absent.mp4")),
            "-o", str(out), "-j", "1", "-q"]
    assert main(args) == 1  # some failed
    assert [p.name for p in out.glob("*.pose")] == ["good.pose"]
    with open(out / "failures.csv", newline="") as fh:
        reasons = {Path(r["video"]).name: r["reason"] for r in csv.DictReader(fh)}
    assert reasons == {"empty.mp4": "zero-byte", "garbage.mp4": "unreadable", "blank.mp4": "no-person",
                       "truncated.mp4": "corrupt", "absent.mp4": "missing"}


def test_zero_frames_in_range_and_bad_boxes(tmp_path):
    video = make_video(tmp_path / "a.mp4", n_frames=2, size=64)
    with pytest.raises(ExtractionError) as err:
        extract_video(video, Clip(start_frame=10))
    assert err.value.reason == "no-frames" and "a.mp4" in str(err.value)
    with pytest.raises(ExtractionError, match="bounding box"):
        extract_video(video, Clip(bbox=(500, 500, 900, 900)))
    assert isinstance(err.value, Text2ASLError)


@pytest.mark.parametrize("argv, message", [
    (["--workers", "0"], "--workers"),
    (["--bbox", "1,2,3"], "--bbox"),
    (["--bbox", "10,10,5,50"], "--bbox"),
    (["--start", "-5"], "--start"),
])
def test_cli_rejects_bad_options_with_one_sentence(tmp_path, capsys, argv, message):
    (tmp_path / "v.mp4").write_bytes(b"x")
    assert main(["extract", str(tmp_path / "v.mp4"), "-o", str(tmp_path / "o"), *argv]) == 2
    assert message in capsys.readouterr().err


def test_output_that_is_a_file_and_empty_folder_are_user_errors(tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "v.mp4").write_bytes(b"x")
    assert main(["extract", str(tmp_path / "v.mp4"), "-o", str(tmp_path / "file.txt")]) == 2
    (tmp_path / "none").mkdir()
    assert main(["extract", str(tmp_path / "none"), "-o", str(tmp_path / "o")]) == 2
    assert "no video files" in capsys.readouterr().err


def test_overlay_video_and_png_of_a_synthetic_clip(tmp_path):
    import imageio.v3 as iio

    from text2asl.extract.overlay import overlay_frame, save_overlay_png
    from text2asl.io import read_video
    from text2asl.poses.normalize import normalize

    video = make_video(tmp_path / "astro.mp4", n_frames=3, fps=10)
    assert main(["extract", str(video), "-o", str(tmp_path), "-j", "1", "-q"]) == 0
    pose = tmp_path / "astro.pose"
    out = tmp_path / "overlay.mp4"
    assert main(["overlay", str(video), "--pose", str(pose), "-o", str(out)]) == 0
    frames, meta = read_video(out)
    assert (meta["codec"], meta["size"], meta["n_frames"], meta["fps"]) == ("h264", (256, 256), 3, 10.0)
    drawn = overlay_frame(video, 0, pose)
    plain = next(read_video(video)[0])
    changed = np.abs(drawn.astype(int) - plain.astype(int)).sum(-1) > 60
    assert 0.002 < changed.mean() < 0.3
    # The face contour is drawn where MediaPipe put the face.
    arr = read_pose_file(pose)
    x0, y0 = arr.xyz[0, FACE, :2].min(0).astype(int)
    x1, y1 = arr.xyz[0, FACE, :2].max(0).astype(int)
    assert changed[y0 : y1 + 1, x0 : x1 + 1].any()
    png = save_overlay_png(video, tmp_path / "frame.png", pose=pose)
    assert iio.imread(png).shape == (256, 256, 3)
    with pytest.raises(Text2ASLError, match=".png"):
        save_overlay_png(video, tmp_path / "frame.jpg", pose=pose)
    with pytest.raises(Text2ASLError, match="normalised"):
        overlay_frame(video, 0, normalize(arr))
    assert main(["overlay", str(video), "--pose", str(pose), "-o", str(tmp_path / "x.avi")]) == 2


def test_a_videos_landmarks_do_not_depend_on_the_video_extracted_before(tmp_path):
    # Batches reuse one graph per worker: without a restart between videos, tracking state from
    # the previous clip shifted the next clip's landmarks by pixels, so results hung on the order.
    a = make_video(tmp_path / "a.mp4", n_frames=4, size=128, shift=1)
    b = make_video(tmp_path / "b.mp4", n_frames=4, size=128, shift=3)
    extract_video(b)
    after_b = np.ma.getdata(extract_video(b).body.data)
    extract_video(a)
    after_a = np.ma.getdata(extract_video(b).body.data)
    assert np.array_equal(after_a, after_b)
