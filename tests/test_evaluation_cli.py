"""`text2asl evaluate` and `text2asl recognize`: outputs on the embedded data, and bad inputs."""
from __future__ import annotations

import csv
import shutil

import pytest

from text2asl.cli import main
from text2asl.gloss_to_pose.lexicon import COLUMNS, Lexicon


@pytest.fixture(scope="module")
def alphabet_dir(tmp_path_factory):
    """A copy of five embedded letters as a lexicon folder, with file names that spell the gloss."""
    lex = Lexicon.embedded()
    out = tmp_path_factory.mktemp("alphabet")
    with open(out / "index.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for g in "ABCLY":
            e = lex.find(g)[0]
            shutil.copy(e.path, out / f"{g.lower()}.pose")
            w.writerow([f"{g.lower()}.pose", "en", "ase", 0, 0, g.lower(), g, 0])
    return out


def test_evaluate_writes_csv_markdown_and_plots_on_the_embedded_data(tmp_path, capsys):
    assert main(["evaluate", "-o", str(tmp_path), "--no-shared-data", "--size", "64", "-j", "1", "-q"]) == 0
    summary = (tmp_path / "summary.md").read_text()
    assert "baseline: static mean pose" in summary and "DTW-MJE" in summary and "SSIM" in summary
    assert "other signer" in summary  # at least named as missing on a fresh clone
    rows = list(csv.DictReader(open(tmp_path / "results.csv")))
    assert {r["metric"] for r in rows} >= {"dtw_mje", "ssim", "psnr", "top1", "top5", "frame_ssim"}
    assert (tmp_path / "alphabet.png").stat().st_size > 10_000
    assert "| copy, 1.5x slower |" in capsys.readouterr().out


def test_evaluate_held_out_lexicons(tmp_path, alphabet_dir):
    code = main(["evaluate", "-o", str(tmp_path), "--no-shared-data", "--skip-embedded", "--no-images", "-q",
                 "--held-out", str(alphabet_dir), "--training", str(Lexicon.embedded().path)])
    assert code == 0
    text = (tmp_path / "summary.md").read_text()
    assert "### held-out (5 glosses)" in text and "pose track (lexicon)" in text


@pytest.mark.parametrize("argv, message", [
    (["--held-out", "x"], "go together"),
    (["--size", "8"], "--size"),
    (["-j", "0"], "--workers"),
    (["--diffusion-frames", "nowhere"], "needs --held-out"),
    (["--skip-embedded"], "nothing to evaluate"),
    (["--diffusion-lora", "x"], "needs --diffusion-base"),
])
def test_evaluate_bad_inputs_exit_2_with_one_sentence(tmp_path, capsys, argv, message):
    assert main(["evaluate", "-o", str(tmp_path / "out"), "--no-shared-data", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_evaluate_output_that_is_a_file_is_refused(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["evaluate", "-o", str(f), "--no-shared-data"]) == 2
    assert "is a file" in capsys.readouterr().err


def test_recognize_prints_top5_and_accuracy_from_file_names(alphabet_dir, capsys):
    queries = [str(alphabet_dir / f"{c}.pose") for c in "abc"]
    assert main(["recognize", "--reference", str(alphabet_dir), *queries]) == 0
    out = capsys.readouterr().out
    assert out.count("[truth") == 3 and "top-1 100% (3/3)" in out
    first = out.splitlines()[0]
    assert first.startswith("a.pose: A 0.000") and len(first.split(",")) == 5


def test_recognize_takes_truths_from_a_lexicon_index(alphabet_dir, tmp_path, capsys):
    q = tmp_path / "query.pose"
    shutil.copy(alphabet_dir / "l.pose", q)
    (tmp_path / "index.csv").write_text("path,glosses\nquery.pose,L\n")
    assert main(["recognize", "--reference", str(alphabet_dir), "--labels", str(tmp_path / "index.csv"), "-k", "2", str(q)]) == 0
    out = capsys.readouterr().out
    assert "[truth L: rank 1 of 5]" in out and "top-1 100% (1/1)" in out


def test_recognize_bad_inputs(alphabet_dir, tmp_path, capsys):
    bad = tmp_path / "broken.pose"
    bad.write_bytes(b"not a pose")
    cases = [
        (["--reference", str(tmp_path / "none"), str(alphabet_dir / "a.pose")], "does not exist"),
        (["--reference", str(alphabet_dir), str(tmp_path / "clip.mp4")], "not a .pose file"),
        (["--reference", str(alphabet_dir), str(bad)], "not a readable .pose file"),
        (["--reference", str(alphabet_dir), "-k", "0", str(alphabet_dir / "a.pose")], "--top"),
        (["--reference", str(alphabet_dir), "--labels", str(tmp_path / "no.csv"), str(alphabet_dir / "a.pose")], "--labels"),
    ]
    for argv, message in cases:
        assert main(["recognize", *argv]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err


def test_evaluate_scores_a_folder_of_generated_videos_as_the_diffusion_track(tmp_path, alphabet_dir):
    from text2asl.evaluation.metrics import default_renderer
    from text2asl.poses.normalize import normalize
    from text2asl.pose_to_video.writer import write_video

    lex = Lexicon(alphabet_dir)
    videos = tmp_path / "generated"
    videos.mkdir()
    for e in lex.entries:  # stand-in "generations": the references themselves, so SSIM must come out high
        write_video(default_renderer(64).frames(normalize(lex.load(e))), videos / f"{e.gloss.lower()}.mp4", 25)
    out = tmp_path / "out"
    assert main(["evaluate", "-o", str(out), "--no-shared-data", "--skip-embedded", "-q", "--size", "64", "-j", "1",
                 "--held-out", str(alphabet_dir), "--training", str(alphabet_dir), "--diffusion-frames", str(videos)]) == 0
    rows = [r for r in csv.DictReader(open(out / "results.csv")) if r["system"] == "diffusion track" and r["metric"] == "ssim"]
    assert len(rows) == 5 and min(float(r["value"]) for r in rows) > 0.8
