"""`text2asl evaluate --pred --ref`: one generated sign against its reference, a folder against a lexicon, and bad pairs."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from text2asl.cli import main
from text2asl.evaluation import pair
from text2asl.gloss_to_pose.lexicon import Lexicon

SIZE = 64


@pytest.fixture(scope="module")
def signs(tmp_path_factory):
    """Letters A and B of the embedded alphabet as .pose files and as metric-rendered .mp4/.gif videos."""
    from text2asl.evaluation.metrics import default_renderer
    from text2asl.io import write_pose
    from text2asl.pose_to_video.writer import write_video
    from text2asl.poses.layout import to_pose
    from text2asl.poses.normalize import normalize

    out = tmp_path_factory.mktemp("signs")
    lex = Lexicon.embedded()
    for g in "AB":
        arr = lex.load(lex.find(g)[0])
        write_pose(to_pose(arr), out / f"{g.lower()}.pose")
        frames = list(default_renderer(SIZE).frames(normalize(arr)))
        write_video(frames, out / f"{g.lower()}.mp4", 25)
        write_video(frames, out / f"{g.lower()}.gif", 25)
    write_video(default_renderer(96).frames(normalize(lex.load(lex.find("A")[0]))), out / "a96.mp4", 25)
    write_video([np.full((64, 96, 3), 255, np.uint8)] * 3, out / "wide.mp4", 25)
    (out / "broken.mp4").write_bytes(b"\x00" * 300)
    (out / "broken.pose").write_bytes(b"not a pose")
    return out


def test_a_pose_against_itself_is_perfect_and_agrees_with_score_poses(signs):
    from text2asl.evaluation.metrics import PSNR_CAP_DB, score_poses

    a = pair.load_sign(signs / "a.pose")
    same = pair.compare(a, a, size=SIZE)
    assert same.dtw_mje == 0 and np.all(same.scores.ssim == 1) and np.all(same.scores.psnr == PSNR_CAP_DB)
    b = pair.load_sign(signs / "b.pose")
    other = pair.compare(a, b, size=SIZE)
    library = score_poses(a.pose, b.pose, "dtw", SIZE)
    np.testing.assert_allclose(other.scores.ssim, library.ssim)
    np.testing.assert_array_equal(other.scores.match, library.match)
    assert other.dtw_mje > 0.01 and other.scores.mean_ssim < 1 and other.pairing == "DTW on the poses"


def test_a_video_against_its_pose_is_close_and_has_no_dtw_mje(signs):
    result = pair.compare(pair.load_sign(signs / "a.mp4"), pair.load_sign(signs / "a.pose"))
    assert result.keyframes[0][1].shape == (SIZE, SIZE, 3)  # the pose is drawn at the video's size
    assert result.scores.mean_ssim > 0.9 and np.isnan(result.dtw_mje) and result.pairing == "linear resampling in time"
    wrong = pair.compare(pair.load_sign(signs / "b.mp4"), pair.load_sign(signs / "a.pose"))
    assert wrong.scores.mean_ssim < result.scores.mean_ssim


def test_cli_prints_the_table_and_pairing_and_writes_csv_and_plot(signs, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["evaluate", "--pred", str(signs / "a.gif"), "--ref", str(signs / "a.mp4"), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| a | " in text and "SSIM" in text and "reference frame -> prediction frame 0->0" in text
    frames = list(csv.DictReader(open(out / "frames.csv")))
    pairs = list(csv.DictReader(open(out / "pairs.csv")))
    assert len(frames) == int(pairs[0]["reference_frames"]) and float(pairs[0]["ssim"]) > 0.9
    assert np.isclose(np.mean([float(r["ssim"]) for r in frames]), float(pairs[0]["ssim"]))
    assert (out / "a.png").stat().st_size > 5_000
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # atomic writes leave no temp file


def test_a_folder_of_predictions_against_a_lexicon(signs, tmp_path, capsys):
    import shutil

    preds = tmp_path / "preds"
    preds.mkdir()
    shutil.copy(signs / "a.pose", preds / "a.pose")
    shutil.copy(signs / "b.mp4", preds / "B.mp4")
    shutil.copy(signs / "a.pose", preds / "not-a-letter.pose")
    assert main(["evaluate", "--pred", str(preds), "--ref", str(Lexicon.embedded().path), "--size", str(SIZE)]) == 0
    captured = capsys.readouterr()
    assert "| A | " in captured.out and "| B | " in captured.out and "mean ± std (2 signs)" in captured.out
    assert "not-a-letter" in captured.err


@pytest.mark.parametrize("pred, ref, message", [
    ("missing.mp4", "a.pose", "does not exist"),
    ("broken.mp4", "a.pose", "not a readable video"),
    ("a.mp4", "broken.pose", "not a readable .pose file"),
    ("a.mp4", "a96.mp4", "render both at one size"),
    ("wide.mp4", "a.pose", "render the video square"),
    ("a.pose", "labels.txt", "not a sign file"),
])
def test_bad_pairs_exit_2_with_one_sentence(signs, capsys, pred, ref, message):
    assert main(["evaluate", "--pred", str(signs / pred), "--ref", str(signs / ref)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1 and not err.endswith(".")


def test_pred_needs_ref_and_suites_need_output(signs, capsys):
    assert main(["evaluate", "--pred", str(signs / "a.pose")]) == 2
    assert "go together" in capsys.readouterr().err
    assert main(["evaluate", "--no-shared-data"]) == 2
    assert "-o/--output" in capsys.readouterr().err


@pytest.mark.slow(seconds=1)  # MediaPipe's start-up
def test_a_recorded_reference_is_compared_through_its_extracted_poses(signs, tmp_path, capsys):
    pytest.importorskip("mediapipe")
    from text2asl.extract.sample_video import astronaut_video

    recording = astronaut_video(tmp_path / "person.mp4", n_frames=3, size=256)
    assert main(["evaluate", "--pred", str(signs / "a.pose"), "--ref", str(recording), "--extract-ref", "--size", str(SIZE)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| a |"))
    assert " / 3 |" in row and "n/a" not in row and "DTW on the poses" in row  # 3 extracted frames, a DTW-MJE
