"""Real signing clips (../shared/data/real-videos): every clip extracts, hands are found, the lexicon signs with them."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mediapipe")

from text2asl.cli import main  # noqa: E402
from text2asl.extract.holistic import signing_hand_rate  # noqa: E402
from text2asl.poses.layout import read_pose_file  # noqa: E402


@pytest.fixture(scope="module")
def labels(real_videos) -> list[dict]:
    with open(real_videos / "labels.csv", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def real_lexicon(real_videos, once_per_run) -> Path:
    """`text2asl build-lexicon --labels` over the 12 clips (all cores): the one expensive step here, done once per run."""

    def build(out: Path) -> None:
        assert main(["build-lexicon", "--labels", str(real_videos / "labels.csv"), "-o", str(out), "-q"]) == 0

    return once_per_run("real-videos-lexicon", build)


def _pose_of(lexicon: Path, video: str) -> Path:
    with open(lexicon / "splits.csv", newline="") as fh:
        return lexicon / next(r["path"] for r in csv.DictReader(fh) if r["video"] == video)


@pytest.mark.slow(seconds=35)  # builds the real-video lexicon that the module's other tests read
def test_every_real_clip_extracts_with_its_frames_fps_and_size(real_lexicon, labels):
    assert not (real_lexicon / "failures.csv").exists()
    assert not (real_lexicon / "missing.csv").exists()
    for row in labels:
        arr = read_pose_file(_pose_of(real_lexicon, row["video"]))
        assert len(arr) == int(row["frames"]), row["video"]
        assert arr.fps == pytest.approx(float(row["fps"]))
        assert arr.size == (int(row["width"]), int(row["height"]))
        assert (arr.conf[:, :33] > 0).any(axis=1).all(), f"body lost in {row['video']}"


@pytest.mark.slow(seconds=1)  # once the lexicon is built
def test_hands_are_found_in_most_frames_where_the_signer_signs(real_lexicon, labels):
    raised = found = 0
    for row in labels:
        rate = signing_hand_rate(read_pose_file(_pose_of(real_lexicon, row["video"])))
        assert rate["raised"] > 10, f"{row['video']}: the signer never raises a hand?"
        assert rate["rate"] > 0.5, f"{row['video']}: a raised hand found in only {rate['rate']:.0%} of frames"
        raised, found = raised + rate["raised"], found + rate["found"]
    assert found / raised > 0.7, f"pooled signing-hand detection {found / raised:.0%}"


@pytest.mark.slow(seconds=1)  # once the lexicon is built
def test_built_lexicon_signs_hello_as_a_word(real_lexicon, tmp_path):
    import text2asl

    translation = text2asl.translate("Hello!", lexicons=[real_lexicon])
    first = translation.coverage[0]
    assert (first.kind, first.signed_as, first.lexicon) == ("lexicon", "HELLO", real_lexicon.name)
    out = tmp_path / "hello.mp4"
    assert main(["translate", "--lexicon", str(real_lexicon), "hello", "-o", str(out)]) == 0
    assert out.stat().st_size > 1000


@pytest.mark.slow(seconds=1)  # once the lexicon is built
def test_video_sign_and_asl_app_sign_with_other_holistic_variants_stitch(real_lexicon, asl_app_lexicon, tmp_path):
    import text2asl
    from pose_format import Pose

    from text2asl.io import read_video

    # The extracted sign has 576 points (with POSE_WORLD); the app's has 543 (4 components).
    ours = Pose.read(_pose_of(real_lexicon, "hello.mp4").read_bytes())
    theirs = Pose.read((asl_app_lexicon / "mother.pose").read_bytes())
    assert (ours.body.data.shape[2], theirs.body.data.shape[2]) == (576, 543)
    translation = text2asl.translate(glosses="HELLO MOTHER", lexicons=[real_lexicon, asl_app_lexicon])
    assert [(c.signed_as, c.lexicon) for c in translation.coverage] == [
        ("HELLO", real_lexicon.name), ("MOTHER", asl_app_lexicon.name)]
    seq = translation.sequence()
    assert seq.xyz.shape[1:] == (543, 3) and np.isfinite(seq.xyz).all()
    path = text2asl.save(translation, tmp_path / "hello_mother.mp4")
    frames, meta = read_video(path)
    assert meta["codec"] == "h264" and meta["n_frames"] == len(seq)


@pytest.mark.slow(seconds=1)  # once the lexicon is built
def test_overlay_of_a_real_clip(real_lexicon, real_videos, tmp_path):
    from text2asl.extract.overlay import overlay_frame
    from text2asl.io import read_video

    pose = _pose_of(real_lexicon, "book.mp4")
    out = tmp_path / "book_overlay.mp4"
    assert main(["overlay", str(real_videos / "book.mp4"), "--pose", str(pose), "-o", str(out)]) == 0
    frames, meta = read_video(out)
    assert (meta["codec"], meta["size"], meta["n_frames"]) == ("h264", (736, 414), 68)
    drawn = overlay_frame(real_videos / "book.mp4", 30, pose)
    plain = next(f for i, f in enumerate(read_video(real_videos / "book.mp4")[0]) if i == 30)
    changed = np.abs(drawn.astype(int) - plain.astype(int)).sum(-1) > 60
    # The skeleton covers a visible but small part of the frame, where the signer is.
    assert 0.005 < changed.mean() < 0.2
    ys, xs = np.nonzero(changed)
    assert 150 < xs.mean() < 590
