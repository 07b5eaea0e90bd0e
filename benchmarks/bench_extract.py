"""Benchmark: `text2asl extract` against pose-format's `videos_to_poses` at the same worker count, paired runs.

Both tools are run as whole processes, as a user runs them, on the same clips (the 12 real clips by
default), with the same MediaPipe settings (Holistic, model_complexity 1, video mode): process
start, imports, model loading, decoding, inference and .pose writing are all inside the timing.

- Paired runs: each round runs the peer and `extract` back to back, alternating which goes first,
  so both see the same machine load; the wall ratio (peer seconds / extract seconds = extract's
  throughput relative to the peer) is taken per round and the median reported.
- CPU per frame comes from `os.wait4`: the run's own process plus every descendant it waited for
  (pool workers, ffmpeg decoders), so it hardly depends on what else the machine is doing.
- After each run, the benchmark lists what is left in the run's process group (it starts each run
  in its own session): `extract` must leave nothing.
- Landmarks: `extract`'s .pose files of the last round are compared point by point (coordinates
  and confidences) with pose-format's single-video `video_to_pose` (a fresh process, so a fresh
  graph) on `--compare` clips, and with the peer's batch output on every clip. The peer reuses one
  graph per worker across videos and its landmarks depend on which video came before (up to pixels);
  `extract` restarts the graph per video, so its landmarks are a fresh graph's whatever the order.

    .venv/bin/python benchmarks/bench_extract.py [--clips DIR] [--workers 2] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from text2asl.extract.batch import processes_in_group

CLIPS = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-videos"
REPO = Path(__file__).resolve().parents[1]
QUIET = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "2"}


def timed_run(cmd: list[str], env: dict) -> tuple[float, float, list[str]]:
    """(wall s, CPU s of the process and its waited-for descendants, processes left in its group) of cmd."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed ({proc.returncode}): {err.decode()[-800:]}")
    return wall, usage.ru_utime + usage.ru_stime, processes_in_group(proc.pid)


def clear(folder: Path) -> None:
    for p in folder.glob("*.pose") if folder.exists() else ():
        p.unlink()


def landmark_diff(a: Path, b: Path) -> tuple[int, float, float]:
    """(frames, max |coordinate difference| in pixels, max |confidence difference|) of two .pose files."""
    import numpy as np
    from pose_format import Pose

    pa, pb = (Pose.read(p.read_bytes()) for p in (a, b))
    if pa.body.data.shape != pb.body.data.shape:
        return len(pa.body.data), float("inf"), float("inf")
    da, db = (np.ma.getdata(p.body.data).astype(np.float64) for p in (pa, pb))
    ca, cb = (np.asarray(p.body.confidence, np.float64) for p in (pa, pb))
    return len(da), float(np.abs(da - db).max()), float(np.abs(ca - cb).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=CLIPS, help="folder of .mp4 clips (default: ../shared/data/real-videos)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes for both tools")
    parser.add_argument("--rounds", type=int, default=3, help="paired runs")
    parser.add_argument("--compare", type=int, default=3, help="clips compared with pose-format's video_to_pose")
    args = parser.parse_args()
    videos = sorted(args.clips.glob("*.mp4"))
    if not videos:
        raise SystemExit(f"no clips in {args.clips}: the benchmark needs ../shared/data/real-videos")
    peer = Path(sys.executable).with_name("videos_to_poses")
    if not peer.exists():
        raise SystemExit(f"pose-format's videos_to_poses is not beside {sys.executable}")

    env = dict(os.environ, **QUIET, PYTHONPATH=str(REPO))
    work = Path(tempfile.mkdtemp(prefix="bench_extract_"))
    peer_dir, ours_in, ours_out = work / "peer", work / "ours", work / "poses"
    for folder in (peer_dir, ours_in):
        folder.mkdir()
        for v in videos:  # links, not copies: the clips stay where they are
            (folder / v.name).symlink_to(v)
    commands = {
        "peer": [str(peer), "-d", str(peer_dir), "--num-workers", str(args.workers)],
        "extract": [sys.executable, "-m", "text2asl", "extract", str(ours_in), "-o", str(ours_out),
                    "-j", str(args.workers), "-q"],
    }
    rows, left = [], {"peer": set(), "extract": set()}
    try:
        for r in range(args.rounds):
            order = ["peer", "extract"] if r % 2 == 0 else ["extract", "peer"]
            t = {}
            for name in order:
                clear(peer_dir if name == "peer" else ours_out)  # both skip finished files
                t[name] = timed_run(commands[name], env)
                left[name].update(t[name][2])
            rows.append((r + 1, order[0], t, os.getloadavg()[0]))
            print(f"round {r + 1}: peer {t['peer'][0]:.1f} s, extract {t['extract'][0]:.1f} s "
                  f"(load average {rows[-1][3]:.1f})", file=sys.stderr)
        diffs = {v.stem: landmark_diff(peer_dir / f"{v.stem}.pose", ours_out / f"{v.stem}.pose") for v in videos}
        single = {}
        for v in videos[: args.compare]:
            reference = work / f"{v.stem}.single.pose"
            timed_run([str(peer.with_name("video_to_pose")), "-i", str(v), "-o", str(reference)], env)
            single[v.stem] = landmark_diff(reference, ours_out / f"{v.stem}.pose")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    n_frames = sum(d[0] for d in diffs.values())
    cores = len(os.sched_getaffinity(0))
    print(f"\n### `text2asl extract` vs pose-format `videos_to_poses`, {args.workers} workers each, {len(videos)} real "
          f"clips ({n_frames} frames), {cores} cores, {args.rounds} paired rounds\n")
    print("| round | first | peer wall s | extract wall s | throughput ratio (peer s / extract s) "
          "| peer CPU ms / frame | extract CPU ms / frame | load average |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for r, first, t, load in rows:
        print(f"| {r} | {first} | {t['peer'][0]:.1f} | {t['extract'][0]:.1f} | {t['peer'][0] / t['extract'][0]:.2f}× "
              f"| {t['peer'][1] / n_frames * 1000:.1f} | {t['extract'][1] / n_frames * 1000:.1f} | {load:.1f} |")
    ratio = statistics.median(t["peer"][0] / t["extract"][0] for _, _, t, _ in rows)
    cpu = statistics.median(t["peer"][1] / t["extract"][1] for _, _, t, _ in rows)
    print(f"\nMedian throughput ratio {ratio:.2f}× (goal ≥ 1.2×); median CPU ratio (peer / extract) {cpu:.2f}×.")
    for what, found in (("pose-format's video_to_pose, one fresh process per clip", single),
                        (f"the peer's batch ({args.workers} workers, graphs reused across clips)", diffs)):
        print(f"Landmarks of extract vs {what}, {len(found)} clips: max |Δ| {max(d[1] for d in found.values()):.2e} px "
              f"in coordinates, {max(d[2] for d in found.values()):.2e} in confidence (limit 1e-4); per clip: "
              + ", ".join(f"{k} {d[1]:.1e}" for k, d in found.items()) + ".")
    for name, procs in left.items():
        print(f"Left in the process group after {name} returned: {', '.join(sorted(procs)) if procs else 'nothing'}.")


if __name__ == "__main__":
    main()
