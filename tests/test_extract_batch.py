"""The batch runner: finished videos are skipped, a kill leaves only complete files, a rerun completes the rest."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("mediapipe")

from test_extract_holistic import make_video  # noqa: E402

from text2asl.errors import Text2ASLError  # noqa: E402
from text2asl.extract.batch import ExtractJob, Failure, jobs_for_videos, run_batch, write_failures  # noqa: E402
from text2asl.poses.layout import read_pose_file  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def test_rerun_skips_finished_videos_and_overwrite_redoes_them(tmp_path):
    videos = [make_video(tmp_path / f"v{i}.mp4", n_frames=2, size=128, shift=i + 1) for i in range(2)]
    out = tmp_path / "poses"
    first = run_batch(jobs_for_videos(videos, out), workers=1, progress=False)
    assert first.ok and len(first.done) == 2 and first.frames == 4
    assert first.peak_rss_mb and all(mb > 50 for mb in first.peak_rss_mb.values())
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*.pose")}
    second = run_batch(jobs_for_videos(videos, out), workers=1, progress=False)
    assert (len(second.done), len(second.skipped)) == (0, 2)
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.pose")} == stamps
    third = run_batch(jobs_for_videos(videos[:1], out), workers=1, progress=False, overwrite=True)
    assert len(third.done) == 1


def test_two_outputs_with_one_name_are_refused(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    jobs = jobs_for_videos([tmp_path / "a" / "clip.mp4", tmp_path / "b" / "clip.mp4"], tmp_path / "out")
    with pytest.raises(Text2ASLError, match="both be written"):
        run_batch(jobs, workers=1, progress=False)


def test_failures_report_is_replaced_and_removed_when_clean(tmp_path):
    report = tmp_path / "failures.csv"
    write_failures([Failure(Path("x.mp4"), Path("x.pose"), "missing", "video x.mp4 does not exist")], report)
    assert "missing" in report.read_text()
    write_failures([], report)
    assert not report.exists()


def test_stale_partial_files_from_a_killed_run_are_cleaned(tmp_path):
    out = tmp_path / "poses"
    out.mkdir()
    stale = out / ".v0.0123abcd.partial.pose"
    stale.write_bytes(b"half a pose")
    keep = out / ".notes.txt"
    keep.write_text("mine")
    run_batch([ExtractJob(tmp_path / "absent.mp4", out / "absent.pose")], workers=1, progress=False)
    assert not stale.exists() and keep.exists()


@pytest.mark.slow(seconds=11)
def test_kill_mid_batch_then_rerun_completes_without_redoing_finished_files(tmp_path):
    n = 6
    videos = [make_video(tmp_path / f"clip{i}.mp4", n_frames=12, size=128, shift=i + 1) for i in range(n)]
    out = tmp_path / "poses"
    cmd = [sys.executable, "-m", "text2asl", "extract", *map(str, videos), "-o", str(out), "-j", "2", "-q"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    # Its own session, so the kill reaches the spawned workers too and nothing else.
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def finals():  # pathlib's "*" also matches the hidden ".<stem>.<hex>.partial.pose" temps
        return [p for p in out.glob("*.pose") if not p.name.startswith(".")]

    try:
        deadline = time.monotonic() + 120
        while not finals() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    finished = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in finals()}
    assert 1 <= len(finished) < n, f"the kill did not land mid-batch: {sorted(finished)}"
    for name in finished:  # what exists under a final name is complete
        assert len(read_pose_file(out / name)) == 12

    result = run_batch(jobs_for_videos(videos, out), workers=2, progress=False)
    assert result.ok
    assert sorted(p.name for p in result.skipped) == sorted(finished)
    assert len(result.done) == n - len(finished)
    for p in finals():
        assert len(read_pose_file(p)) == 12
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in finals() if p.name in finished} == finished
    assert sorted(p.name for p in out.iterdir()) == sorted(f"clip{i}.pose" for i in range(n))
