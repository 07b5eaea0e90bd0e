"""Rendering (colours, layout, connections) and the H.264 / GIF / .pose writers, decoded back."""
import numpy as np
import pytest

from text2asl.errors import Text2ASLError
from text2asl.pipeline import render_frames, save, translate
from text2asl.pose_to_video.render import (
    BODY_EDGES, FACE_CONTOUR_EDGES, HAND_EDGES, LEFT_HAND_COLOR, RIGHT_HAND_COLOR,
    RenderConfig, draw_skeleton,
)
from text2asl.io import atomic_path, read_video
from text2asl.pose_to_video.writer import write_video


def test_connections_match_mediapipe():
    mp = pytest.importorskip("mediapipe.python.solutions.face_mesh_connections")
    hands = pytest.importorskip("mediapipe.python.solutions.hands_connections")
    pose = pytest.importorskip("mediapipe.python.solutions.pose_connections")
    assert set(FACE_CONTOUR_EDGES) == set(mp.FACEMESH_CONTOURS)
    assert set(HAND_EDGES) == set(hands.HAND_CONNECTIONS)
    assert set(BODY_EDGES) <= set(pose.POSE_CONNECTIONS)


def _colour_pixels(img, colour, tol=40):
    return (np.abs(img.astype(int) - np.array(colour)).sum(axis=-1) < tol).sum()


def test_frames_have_both_hand_colours_and_fixed_size():
    t = translate(glosses="fs-AB")
    frames = list(render_frames(t, RenderConfig(size=256)))
    assert frames[0].shape == (256, 256, 3) and frames[0].dtype == np.uint8
    total = np.stack(frames)
    assert _colour_pixels(total, RIGHT_HAND_COLOR) + _colour_pixels(total, LEFT_HAND_COLOR) > 0
    # caption on by default changes the top band; off leaves it blank
    plain = next(iter(render_frames(t, RenderConfig(size=256, caption=False))))
    assert (plain[:20] == 255).all() and not (frames[0][:20] == 255).all()


def test_hands_inset_magnifies_the_hands():
    t = translate(glosses="fs-B")
    with_inset = list(render_frames(t, RenderConfig(size=256, caption=False)))[5]
    without = list(render_frames(t, RenderConfig(size=256, caption=False, hands_inset=False)))[5]
    bottom = slice(256 - 80, 256)
    assert (with_inset[bottom] != without[bottom]).any()


def test_draw_skeleton_on_an_image_in_pixels():
    img = np.zeros((100, 100, 3), np.uint8)
    xy = np.zeros((543, 2))
    conf = np.zeros(543)
    xy[11], xy[12] = (20, 50), (80, 50)  # shoulders
    conf[[11, 12]] = 1
    draw_skeleton(img, xy, conf)
    assert img[50, 50].sum() > 0 and img[10, 50].sum() == 0


def test_mp4_is_h264_with_the_right_frames_size_and_fps(tmp_path):
    t = translate("Hi Bo", config=None)
    out = save(t, tmp_path / "hi.mp4", RenderConfig(size=128))
    frames, meta = read_video(out)
    n = sum(1 for _ in frames)
    assert meta["codec"] == "h264" and meta["size"] == (128, 128) and meta["fps"] == 25
    assert n == meta["n_frames"] == len(t.sequence())


def test_gif_and_pose_outputs(tmp_path):
    from pose_format import Pose

    t = translate(glosses="fs-OK")
    gif = save(t, tmp_path / "ok.gif", RenderConfig(size=64))
    assert gif.read_bytes()[:3] == b"GIF"
    pose = Pose.read(save(t, tmp_path / "ok.pose").read_bytes())
    assert pose.body.data.shape == (len(t.sequence()), 1, 543, 3) and pose.body.fps == 25


def test_interrupted_write_leaves_no_file(tmp_path):
    def frames():
        yield np.zeros((64, 64, 3), np.uint8)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_video(frames(), tmp_path / "x.mp4", 25)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError):
        with atomic_path(tmp_path / "y.pose") as tmp:
            tmp.write_bytes(b"half")
            raise ValueError("boom")
    assert list(tmp_path.iterdir()) == []


def test_read_video_errors(tmp_path):
    with pytest.raises(Text2ASLError, match="does not exist"):
        read_video(tmp_path / "none.mp4")
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(Text2ASLError, match="not a readable video"):
        read_video(tmp_path / "bad.mp4")


def test_mp4_colours_survive_the_yuv_pipe(tmp_path):
    rng = np.random.default_rng(0)
    frames = [np.full((64, 96, 3), c, np.uint8) for c in ((255, 255, 255), (225, 80, 30), (30, 110, 225), (0, 0, 0))]
    frames.append(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8))
    out, meta = read_video(write_video(frames, tmp_path / "c.mp4", 10, crf=0))
    back = list(out)
    assert meta["size"] == (96, 64) and len(back) == 5
    for a, b in zip(frames[:4], back[:4]):
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 3
    with pytest.raises(Text2ASLError, match="even width and height"):
        write_video([np.zeros((63, 95, 3), np.uint8)] * 2, tmp_path / "odd.mp4", 10)
    assert not (tmp_path / "odd.mp4").exists()


def test_show_frames_draws_titled_frames_into_the_given_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from text2asl.pose_to_video.gallery import show_frames

    fig, (left, right) = plt.subplots(1, 2)
    frames = [np.full((32, 32, 3), v, np.uint8) for v in (0, 128, 255)]
    assert show_frames(frames, ncols=3, titles=["a", "b", "c"], ax=right) is fig
    assert len(fig.axes) == 2 and not left.images and len(right.images) == 1
    assert [t.get_text() for t in right.texts] == ["a", "b", "c"]
    plt.close(fig)
