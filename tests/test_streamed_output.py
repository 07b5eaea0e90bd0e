"""Streamed outputs: .pose written chunk by chunk (same bytes as pose-format's whole-file write), long
words stitched in pieces, and the fast H.264 path still browser-playable with every frame."""
import imageio_ffmpeg
import numpy as np
import pytest
from pose_format import Pose

from text2asl.errors import Text2ASLError
from text2asl.gloss_to_pose.rhythm import pause_frames, rest_frame
from text2asl.gloss_to_pose.stitch import CAPTION_CHARS, PIECE_LETTERS, smoothstep_transition
from text2asl.io import read_video, write_pose, write_pose_stream
from text2asl.pipeline import render_frames, save, translate
from text2asl.poses.layout import PoseArray, to_pose
from text2asl.pose_to_video.render import RenderConfig
from text2asl.pose_to_video.writer import has_encoder, write_video

LONG_WORD = "".join(chr(ord("a") + (i * 7) % 26) for i in range(2 * PIECE_LETTERS + 5))


def _reference_stream(t):
    """The stitched sequence built the straightforward way: whole units, then seams (memory grows)."""
    s = t._stitcher
    parts, prev = [], None
    for unit in t.units:
        clip, _ = s.unit_clip(unit)
        if prev is not None:
            n = s.transition_frames(prev, clip)
            parts.append(smoothstep_transition(prev.xyz[-1], prev.conf[-1], clip.xyz[0], clip.conf[0], n))
        parts.append(clip)
        prev = clip
        if unit.pause:  # the last frame held, then (at a sentence end) down to rest and held there
            n_hold, n_rest = pause_frames(unit.pause, t.fps)
            parts.append(PoseArray(np.repeat(clip.xyz[-1:], n_hold, 0), np.repeat(clip.conf[-1:], n_hold, 0), t.fps))
            if n_rest:
                xyz, conf = rest_frame(clip.xyz[-1], clip.conf[-1])
                rest = PoseArray(np.repeat(xyz[None], n_rest, 0), np.repeat(conf[None], n_rest, 0), t.fps)
                n = s.transition_frames(clip, rest.slice(0, 1))
                parts += [smoothstep_transition(clip.xyz[-1], clip.conf[-1], xyz, conf, n), rest]
                prev = rest.slice(0, 1)
    return PoseArray.concatenate(parts)


@pytest.mark.parametrize("text", ["Hi Bo, ok?", f"My {LONG_WORD} is here"])
def test_pose_stream_has_the_same_bytes_as_a_whole_pose_write(text, tmp_path):
    t = translate(text)
    streamed = save(t, tmp_path / "s.pose")
    whole = write_pose(to_pose(t.sequence()), tmp_path / "w.pose")
    assert streamed.read_bytes() == whole.read_bytes()
    pose = Pose.read(streamed.read_bytes())
    seq = t.sequence()
    assert pose.body.data.shape == (len(seq), 1, 543, 3) and pose.body.fps == t.fps
    np.testing.assert_array_equal(np.ma.getdata(pose.body.data)[:, 0], seq.xyz)
    np.testing.assert_array_equal(pose.body.confidence[:, 0], seq.conf)
    assert (np.ma.getmaskarray(pose.body.data)[:, 0, :, 0] == (seq.conf <= 0)).all()


def test_pose_stream_refuses_an_empty_stream_and_leaves_nothing(tmp_path):
    with pytest.raises(Text2ASLError, match="no frames"):
        write_pose_stream(iter(()), tmp_path / "e.pose", 25)
    assert list(tmp_path.iterdir()) == []


def test_a_long_word_streams_in_pieces_with_the_same_frames():
    t = translate(f"ok {LONG_WORD} ok")
    chunks = list(t.chunks())
    word = [c for c, _ in chunks if c.meta["label"] == f"fs-{LONG_WORD.upper()}"]
    assert len(word) == 3 and [c.meta.get("continued", False) for c in word] == [False, True, True]
    assert all(c.meta["transition_frames"] == 0 for c in word[1:])
    # each piece holds at most PIECE_LETTERS letters, each at most hold + transition frames long
    per_letter = max(1, round(t.config.letter_hold_s * t.fps)) + max(1, round(t.config.letter_transition_s * t.fps))
    longest_transition = round(t.config.max_transition_s * t.fps)
    assert max(len(c) for c in word) <= PIECE_LETTERS * per_letter + longest_transition
    ref = _reference_stream(t)
    seq = t.sequence()
    np.testing.assert_array_equal(seq.xyz, ref.xyz)
    np.testing.assert_array_equal(seq.conf, ref.conf)
    captions = t.captions()
    assert len(captions) == len(seq)
    # a long word's captions are cut (it would not fit, and drawing 5,000 letters costs 25 ms a frame)
    assert max(map(len, captions)) <= CAPTION_CHARS + 3 and f"{LONG_WORD.upper()[:10]}" in captions[len(captions) // 2]


def test_mp4_is_browser_h264_yuv420p_with_every_frame(tmp_path):
    t = translate("Hi Bo")
    out = save(t, tmp_path / "hi.mp4", RenderConfig(size=96))
    gen = imageio_ffmpeg.read_frames(str(out))
    meta = next(gen)
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p") and meta["size"] == (96, 96)
    assert sum(1 for _ in gen) == len(t.captions()) == imageio_ffmpeg.count_frames_and_secs(str(out))[0]


def test_mp4_frames_look_like_the_rendered_frames(tmp_path):
    t = translate(glosses="fs-AB")
    rendered = list(render_frames(t, RenderConfig(size=128)))
    assert rendered[1] is rendered[2]  # held letters repeat one frame object, converted once
    frames, meta = read_video(save(t, tmp_path / "ab.mp4", RenderConfig(size=128)))
    decoded = list(frames)
    assert len(decoded) == len(rendered)
    for a, b in zip(rendered, decoded):
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 3


def test_gif_gets_every_frame(tmp_path):
    t = translate(glosses="fs-OK")
    out = save(t, tmp_path / "ok.gif", RenderConfig(size=64))
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == len(t.captions())


def test_an_encoder_failure_reaches_the_caller_and_leaves_nothing(tmp_path):
    frames = (np.zeros((32, 32, 3), np.uint8) for _ in range(200))
    with pytest.raises(Text2ASLError, match="cannot write"):  # raised in the feeder thread, re-raised here
        write_video(frames, tmp_path / "x.mp4", 25, encoder=("libx264", ("-preset", "no-such-preset")))
    assert list(tmp_path.iterdir()) == []


def test_an_ffmpeg_without_the_encoder_falls_back_to_x264(tmp_path):
    assert has_encoder("libx264")
    assert not has_encoder("libno-such-encoder")
    frames = [np.full((32, 32, 3), 255, np.uint8)] * 3
    out = write_video(frames, tmp_path / "x.mp4", 25, encoder=("libno-such-encoder", ()))
    meta = next(imageio_ffmpeg.read_frames(str(out)))
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_a_producer_that_reuses_one_buffer_still_gets_every_frame(suffix, tmp_path):
    def frames():  # one buffer, changed after each yield: the feeder thread must not see later changes
        buf = np.zeros((32, 32, 3), np.uint8)
        for value in (0, 255, 0, 255):
            buf[:] = value
            yield buf

    out, _ = read_video(write_video(frames(), tmp_path / f"x{suffix}", 10))
    assert [int(f.mean() > 127) for f in out] == [0, 1, 0, 1]


def test_frames_of_another_size_are_refused(tmp_path):
    frames = [np.zeros((32, 32, 3), np.uint8), np.zeros((32, 48, 3), np.uint8)]
    with pytest.raises(Text2ASLError, match="frame 1 is 48x32"):
        write_video(frames, tmp_path / "x.mp4", 25)
    assert list(tmp_path.iterdir()) == []


def test_the_command_line_starts_without_package_metadata_and_still_knows_its_version():
    import subprocess
    import sys

    code = "import sys, text2asl.cli as c; c.build_parser(['translate']); print('importlib.metadata' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # it costs ~50 ms of every start; only --version needs it
    version = subprocess.run([sys.executable, "-m", "text2asl", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("text2asl")


# write_video with `size` starts ffmpeg before the first frame is made; what it then gets is checked
# like any frame: a wrong size or no frame at all is one sentence and leaves no file.
@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
@pytest.mark.parametrize("frames, error", [
    ([np.zeros((32, 32, 3), np.uint8)] * 3, None),
    ([], "no frames to write"),
    ([np.zeros((32, 48, 3), np.uint8)], r"frame 0 is 48x32, the video is 32x32"),
    ([np.zeros((32, 32, 3), np.uint8), np.zeros((30, 32, 3), np.uint8)], r"frame 1 is 32x30, the video is 32x32"),
])
def test_write_video_with_a_known_size_checks_the_frames_it_gets(tmp_path, suffix, frames, error):
    out = tmp_path / f"v{suffix}"
    if error is None:
        write_video(iter(frames), out, 25, size=(32, 32))
        assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == len(frames)
    else:
        with pytest.raises(Text2ASLError, match=error):
            write_video(iter(frames), out, 25, size=(32, 32))
        assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("exe", ["/nonexistent/ffmpeg", "/etc/hostname"], ids=["missing", "not-a-program"])
def test_an_ffmpeg_that_cannot_run_is_one_sentence_and_leaves_nothing(tmp_path, monkeypatch, exe):
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", lambda: exe)
    with pytest.raises(Text2ASLError, match=r"cannot run ffmpeg \(.*\): .*; reinstall imageio-ffmpeg"):
        write_video([np.zeros((32, 32, 3), np.uint8)] * 2, tmp_path / "x.mp4", 25, encoder=("libx264", ()))
    assert list(tmp_path.iterdir()) == []
