"""Sharded extraction (`--shard K/N`): a stable partition, concurrent shards in one folder, kill and rerun, coverage."""
from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from text2asl.errors import Text2ASLError
from text2asl.extract.batch import ExtractJob
from text2asl.extract.batch import processes_in_group
from text2asl.extract.shards import Shard, failures_path, select_shard, shard_of

REPO = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(REPO), GLOG_minloglevel="2", TF_CPP_MIN_LOG_LEVEL="2")


@pytest.mark.parametrize("text, shard", [("1/1", Shard(1, 1)), ("3/8", Shard(3, 8)), (" 2 / 2 ", Shard(2, 2))])
def test_shard_parses_k_of_n(text, shard):
    assert Shard.parse(text) == shard


@pytest.mark.parametrize("text, words", [
    ("0/4", "numbered from 1"), ("5/4", "K must be in"), ("1/0", "count N"), ("2", "not K/N"),
    ("a/b", "not K/N"), ("-1/3", "not K/N"), ("1/2/3", "not K/N"), ("", "not K/N"),
])
def test_bad_shard_is_one_sentence(text, words):
    with pytest.raises(Text2ASLError, match=words):
        Shard.parse(text)


def test_partition_is_complete_disjoint_and_independent_of_listing_order():
    jobs = [ExtractJob(Path(f"/data/{d}/v{i}.mp4"), Path(f"out/v{i}.pose"), key=f"{d}/v{i}.mp4")
            for i, d in enumerate(["a", "b", "c"] * 40)]
    for n in (1, 2, 3, 7):
        parts = [select_shard(jobs, Shard(k, n)) for k in range(1, n + 1)]
        assert sorted(j.key for p in parts for j in p) == sorted(j.key for j in jobs)  # every job once
        shuffled = random.Random(n).sample(jobs, len(jobs))
        assert [{j.key for j in select_shard(shuffled, Shard(k, n))} for k in range(1, n + 1)] == [{j.key for j in p} for p in parts]
    # The hash is sha1, not Python's salted hash(): these values hold on every machine and run.
    assert [shard_of(k, 3) for k in ("clip1.mp4", "clip2.mp4", "sub/clip0.mp4")] == [2, 1, 3]


def test_key_defaults_to_the_file_name_and_failures_files_are_per_shard():
    assert ExtractJob(Path("/x/y/hello.mp4"), Path("o/hello.pose")).key == "hello.mp4"
    assert failures_path(Path("o/failures.csv"), Shard(2, 8)) == Path("o/failures.shard-2-of-8.csv")
    assert failures_path(Path("o/failures.csv"), None) == failures_path(Path("o/failures.csv"), Shard(1, 1)) == Path("o/failures.csv")


# ---- real extraction in separate processes (MediaPipe) ----

def _videos(folder: Path, n: int, frames: int) -> dict[str, Path]:
    """{key: path}: n tiny astronaut clips, every third in a subfolder (keys are paths relative to `folder`)."""
    from text2asl.extract.sample_video import astronaut_video

    found = {}
    for i in range(n):
        key = f"sub/clip{i}.mp4" if i % 3 == 0 else f"clip{i}.mp4"
        (folder / key).parent.mkdir(parents=True, exist_ok=True)
        found[key] = astronaut_video(folder / key, n_frames=frames, size=96, shift=i + 1)
    return found


def _extract(*args: str, wait: bool = True):
    cmd = [sys.executable, "-m", "text2asl", "extract", *args, "-q"]
    # Its own session, so a kill reaches its workers and nothing else, and its group can be inspected.
    proc = subprocess.Popen(cmd, env=ENV, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if wait:
        proc.out, proc.err = proc.communicate(timeout=300)
    return proc


def _finals(out: Path) -> dict[str, tuple[int, int]]:
    """{name: (inode, mtime)} of finished .pose files; pathlib's * also matches hidden .partial temps."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("*.pose") if not p.name.startswith(".")}


@pytest.fixture
def mediapipe():
    return pytest.importorskip("mediapipe")


def test_three_concurrent_shards_cover_the_folder_once_and_a_rerun_skips_all(tmp_path, mediapipe):
    videos = _videos(tmp_path / "in", 7, frames=2)
    (tmp_path / "in" / "broken.mp4").write_bytes(b"")  # fails in its own shard
    keys = [*videos, "broken.mp4"]
    out = tmp_path / "poses"
    procs = [_extract(str(tmp_path / "in"), "-o", str(out), "--shard", f"{k}/3", "-j", "1", wait=False) for k in (1, 2, 3)]
    for p in procs:
        p.out, p.err = p.communicate(timeout=300)
    broken_shard = shard_of("broken.mp4", 3)
    for k, p in enumerate(procs, start=1):
        assert p.returncode == (1 if k == broken_shard else 0), p.err
        own = [key for key in videos if shard_of(key, 3) == k]
        # Each shard extracted exactly its own videos: with the union check below, no file was written twice.
        assert f"shard {k}/3: {len(own)} extracted, 0 already done" in p.err, p.err
    finished = _finals(out)
    assert sorted(finished) == sorted(f"{Path(key).stem}.pose" for key in videos)
    assert sorted(p.name for p in out.iterdir()) == sorted([*finished, f"failures.shard-{broken_shard}-of-3.csv"])

    status = _extract(str(tmp_path / "in"), "-o", str(out), "--status", "3")
    assert status.returncode == 1  # one video failed
    rows = {line.split()[0]: line.split()[1:] for line in status.out.splitlines()[1:]}
    for k in (1, 2, 3):
        n = sum(shard_of(key, 3) == k for key in keys)
        assert rows[f"{k}/3"] == [str(n), str(n - (k == broken_shard)), str(int(k == broken_shard)), "0"]
    assert rows["all"] == [str(len(keys)), str(len(videos)), "1", "0"]
    with open(out / "failures.csv", newline="") as fh:
        assert [(Path(r["video"]).name, r["reason"]) for r in csv.DictReader(fh)] == [("broken.mp4", "zero-byte")]

    (tmp_path / "in" / "broken.mp4").unlink()  # the user removes the bad file: now everything is done
    again = _extract(str(tmp_path / "in"), "-o", str(out), "-j", "1")  # unsharded: skips every shard's files
    assert again.returncode == 0 and f"0 extracted, {len(videos)} already done" in again.err
    assert _finals(out) == finished
    assert _extract(str(tmp_path / "in"), "-o", str(out), "--status", "3").returncode == 0


def test_extract_returns_only_after_its_workers_exited(tmp_path, mediapipe):
    _videos(tmp_path / "in", 3, frames=2)
    proc = _extract(str(tmp_path / "in"), "-o", str(tmp_path / "poses"), "-j", "2")
    assert proc.returncode == 0, proc.err
    assert processes_in_group(proc.pid) == []  # no worker, ffmpeg decoder or resource tracker left, not even a zombie


@pytest.mark.slow(seconds=14)
def test_a_killed_shard_rerun_finishes_only_its_own_missing_files(tmp_path, mediapipe):
    videos = _videos(tmp_path / "in", 9, frames=12)
    sizes = {k: sum(shard_of(key, 3) == k for key in videos) for k in (1, 2, 3)}
    victim = max(sizes, key=sizes.get)
    assert sizes[victim] >= 3
    own = {f"{Path(key).stem}.pose" for key in videos if shard_of(key, 3) == victim}
    out = tmp_path / "poses"
    procs = {k: _extract(str(tmp_path / "in"), "-o", str(out), "--shard", f"{k}/3", "-j", "1", wait=False) for k in (1, 2, 3)}
    try:
        deadline = time.monotonic() + 180
        while not own & set(_finals(out)) and procs[victim].poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(procs[victim].pid, signal.SIGKILL)
    finally:
        for p in procs.values():
            p.communicate(timeout=300)
    assert all(procs[k].returncode == 0 for k in procs if k != victim)
    before = _finals(out)
    assert 1 <= len(own & set(before)) < len(own), f"the kill did not land mid-shard: {sorted(own & set(before))}"
    assert set(before) - own == {f"{Path(key).stem}.pose" for key in videos} - own  # the other shards finished

    status = _extract(str(tmp_path / "in"), "-o", str(out), "--status", "3")
    assert status.returncode == 1
    missing = {line.split()[0]: int(line.split()[4]) for line in status.out.splitlines()[1:]}
    assert missing[f"{victim}/3"] == len(own - set(before)) and missing["all"] == missing[f"{victim}/3"]

    rerun = _extract(str(tmp_path / "in"), "-o", str(out), "--shard", f"{victim}/3", "-j", "1")
    assert rerun.returncode == 0, rerun.err
    left = len(own - set(before))
    assert f"{left} extracted, {len(own) - left} already done" in rerun.err
    after = _finals(out)
    assert sorted(after) == sorted(f"{Path(key).stem}.pose" for key in videos)
    assert {name: after[name] for name in before} == before  # nothing finished was rewritten
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # the killed run's temp is gone


@pytest.mark.slow(seconds=10)
def test_build_lexicon_from_shards_equals_an_unsharded_build(tmp_path, mediapipe):
    from text2asl.cli import main

    folder = tmp_path / "clips"
    videos = _videos(folder, 6, frames=3)
    with open(folder / "labels.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["video", "gloss", "signer"])
        for i, key in enumerate(videos):
            writer.writerow([key, ["HELLO", "BOOK"][i % 2], f"s{i % 3}"])
    labels = ["build-lexicon", "--labels", str(folder / "labels.csv"), "-j", "1", "-q"]
    assert main([*labels, "-o", str(tmp_path / "whole")]) == 0
    sharded = tmp_path / "sharded"
    for k in (1, 2, 3):
        assert main([*labels, "-o", str(sharded), "--shard", f"{k}/3"]) == 0
        assert not (sharded / "index.csv").exists()  # a shard writes no index
    poses = sorted(p.relative_to(sharded) for p in sharded.rglob("*.pose") if not p.name.startswith("."))
    assert len(poses) == len(videos)
    stamps = {p: (sharded / p).stat().st_mtime_ns for p in poses}
    assert main([*labels, "-o", str(sharded)]) == 0  # the merge: extracts nothing, writes the index
    assert {p: (sharded / p).stat().st_mtime_ns for p in poses} == stamps
    for name in ("index.csv", "splits.csv"):
        assert (sharded / name).read_text() == (tmp_path / "whole" / name).read_text()
    for p in poses:  # each clip on a restarted graph: the same landmarks whatever shard or order extracted it
        assert (sharded / p).read_bytes() == (tmp_path / "whole" / p).read_bytes()


@pytest.mark.parametrize("args, words", [
    (["--shard", "4/3"], "K must be in"),
    (["--shard", "two/3"], "not K/N"),
    (["--shard", "1/3", "--status", "3"], "not both"),
    (["--status", "0"], "--status"),
])
def test_bad_shard_options_exit_non_zero_without_output(tmp_path, capsys, args, words):
    from text2asl.cli import main

    video = tmp_path / "v.mp4"
    video.write_bytes(b"not decoded: the options are refused first")
    assert main(["extract", str(video), "-o", str(tmp_path / "out"), *args]) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# The README's scaling-out lines, run here as written (`text2asl` on PATH; a Kubernetes Indexed Job
# sets JOB_COMPLETION_INDEX from 0 in each pod of `completions: 2, completionMode: Indexed`).
XARGS_LINE = "seq 1 3 | xargs -P 3 -I{} text2asl extract videos -o poses --shard {}/3 -j 1 -q"
KUBERNETES_COMMAND = 'text2asl extract videos -o poses --shard "$((JOB_COMPLETION_INDEX + 1))/2" -j 1 -q'


@pytest.mark.slow(seconds=9)  # seven extraction processes
def test_slurm_array_script_xargs_line_and_indexed_job_command_extract_everything(tmp_path, mediapipe):
    videos = _videos(tmp_path / "videos", 4, frames=2)
    expected = sorted(f"{Path(key).stem}.pose" for key in videos)
    (tmp_path / "bin").mkdir()
    shim = tmp_path / "bin" / "text2asl"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m text2asl "$@"\n')
    shim.chmod(0o755)
    env = dict(ENV, PATH=f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")

    def sh(command: str, **extra: str) -> subprocess.Popen:
        return subprocess.Popen(["bash", "-c", command], cwd=tmp_path, env=dict(env, **extra), stderr=subprocess.PIPE, text=True)

    script = REPO / "examples" / "slurm_extract.sh"
    runs = {"slurm": [sh(f"{script} videos slurm", SLURM_ARRAY_TASK_ID=str(k), SLURM_ARRAY_TASK_MAX="2",
                         SLURM_CPUS_PER_TASK="1") for k in (1, 2)],
            "poses": [sh(XARGS_LINE)]}
    for procs in runs.values():
        for p in procs:
            assert p.wait(timeout=300) == 0, p.stderr.read()
    for folder, n in (("slurm", 2), ("poses", 3)):
        assert sorted(_finals(tmp_path / folder)) == expected
        assert _extract(str(tmp_path / "videos"), "-o", str(tmp_path / folder), "--status", str(n)).returncode == 0
    for k8s in [sh(KUBERNETES_COMMAND, JOB_COMPLETION_INDEX=str(i)) for i in (0, 1)]:  # into the same folder: all skipped
        assert k8s.wait(timeout=300) == 0
        assert "0 extracted" in k8s.stderr.read()
    missing_task = subprocess.run(["bash", str(script), "videos", "x"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert missing_task.returncode != 0 and "job array" in missing_task.stderr
