"""Benchmark: text -> H.264 skeleton video, text2asl vs the peer pipeline (spoken-to-signed + pose-format).

Whole-process wall time, as a user meets it: each run is a fresh process started and waited for
by this script (interpreter start, imports, translation, drawing, encoding, exit). Ours is the
`text2asl translate` command line. The peer, in a `python -c` script: spoken-to-signed's `simple`
glosser -> `CSVPoseLookup` with `FingerspellingPoseLookup` backup -> `gloss_to_pose` -> pose-format
`PoseVisualizer.draw()` at 512x512 -> imageio-ffmpeg libx264 veryfast, frames streamed one by one
(as fair to the peer as we can make it: no frame list, no extra copies). Both sign the same texts
with the same lexicon (the ASL fingerspelling alphabet shipped in spoken-to-signed).

Both run with Python's bytecode cache, as on a user's machine from the second run on: the children
do not inherit PYTHONDONTWRITEBYTECODE (set in some sandboxes, where an editable install would
otherwise recompile its modules on every start while pip-installed peers are precompiled), and one
untimed warm-up run of each comes first. Likewise text2asl keeps the signs it prepared on disk
(`gloss_to_pose.clipcache`, here in a temp folder the warm-up run fills); `--cold` times it with that
cache off, as on the very first run.

A/B paired: each repeat runs ours and the peer back to back, in alternating order, and the table
gives the median of the per-pair ratios with their range, so machine load that drifts over
minutes cancels out. Peak RSS is the largest process of the run's tree (wait4's ru_maxrss: the
Python process, or ffmpeg if it were larger).

`--long` shows text2asl's peak RSS against text length for every output format (mp4, gif, pose),
and for one very long fingerspelled word: flat means memory does not grow with the text.

    .venv/bin/python benchmarks/bench_translate.py [--repeats 5] [--cold] [--long [--long-words 100 1000 5000] [--long-size 512]]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from text2asl.gloss_to_pose.clipcache import CACHE_ENV

SENTENCE = "Hello, my name is Sam and I like pizza."
PARAGRAPH = (
    "My family lives in a small town near the lake. Every morning my mother walks the dog and my father "
    "makes coffee. Yesterday my sister Anna visited us with her two children. We ate breakfast together, "
    "talked about school and played games in the garden. Tomorrow they will drive home, but next summer "
    "we want to travel to Boston together."
)

PEER = textwrap.dedent("""
    import sys
    import imageio_ffmpeg, numpy as np
    from pose_format.pose_visualizer import PoseVisualizer
    from spoken_to_signed.gloss_to_pose import CSVPoseLookup, gloss_to_pose
    from spoken_to_signed.gloss_to_pose.lookup.fingerspelling_lookup import FingerspellingPoseLookup
    from spoken_to_signed.text_to_gloss.simple import text_to_gloss
    fs = FingerspellingPoseLookup()
    lookup = CSVPoseLookup(fs.directory, backup=fs)
    sentences = text_to_gloss(sys.argv[1], language="en")
    poses = [gloss_to_pose(s, lookup, "en", "ase").pose for s in sentences]
    from spoken_to_signed.gloss_to_pose.concatenate import concatenate_poses
    pose = poses[0] if len(poses) == 1 else concatenate_poses(poses, trim=False)
    # PoseVisualizer draws at the pose's own resolution; scale the header to 512x512 like ours
    sx, sy = 512 / pose.header.dimensions.width, 512 / pose.header.dimensions.height
    pose.body.data = pose.body.data * np.array([sx, sy, 1])
    pose.header.dimensions.width = pose.header.dimensions.height = 512
    viz = PoseVisualizer(pose)
    w = imageio_ffmpeg.write_frames(sys.argv[2], (512, 512), fps=pose.body.fps, codec="libx264", pix_fmt_out="yuv420p",
                                    quality=None, output_params=["-preset", "veryfast", "-crf", "23"], macro_block_size=1,
                                    ffmpeg_log_level="error")
    w.send(None)
    for frame in viz.draw():
        w.send(np.ascontiguousarray(frame[..., ::-1]))
    w.close()
""")


def ours_cmd(text: str, out: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "text2asl", "translate", "-q", text, "-o", str(out), *options]


def peer_cmd(text: str, out: Path) -> list[str]:
    return [sys.executable, "-c", PEER, text, str(out)]


CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(cmd: list[str], out: Path) -> dict:
    """Wall seconds and peak RSS (MB) of one fresh process; frames and bytes of what it wrote."""
    out.unlink(missing_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=CHILD_ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode:
        raise RuntimeError(f"{cmd[:4]} failed ({proc.returncode}): {err[-2000:]}")
    return {"wall": wall, "rss_mb": usage.ru_maxrss / 1024, "frames": count_frames(out), "kb": out.stat().st_size / 1024}


def count_frames(path: Path) -> int:
    if path.suffix == ".pose":
        return pose_frames(path)
    import imageio_ffmpeg

    return int(imageio_ffmpeg.count_frames_and_secs(str(path))[0])


def pose_frames(path: Path) -> int:
    """Frame count from a .pose file's body header, without reading the body (long ones hold GBs)."""
    import struct

    from pose_format.pose_header import PoseHeader
    from pose_format.utils.reader import BufferReader

    with open(path, "rb") as fh:
        reader = BufferReader(fh.read(1 << 16))
    PoseHeader.read(reader)
    return struct.unpack_from("<fI", reader.buffer, reader.read_offset)[1]


def paired(text: str, repeats: int, tmp: Path) -> tuple[list[dict], list[dict]]:
    ours, peer = [], []
    for i in range(repeats):
        pair = [("ours", ours_cmd(text, tmp / "ours.mp4")), ("peer", peer_cmd(text, tmp / "peer.mp4"))]
        for name, cmd in pair if i % 2 == 0 else pair[::-1]:
            (ours if name == "ours" else peer).append(run(cmd, tmp / f"{name}.mp4"))
    return ours, peer


def speed_table(repeats: int, tmp: Path) -> None:
    run(ours_cmd(SENTENCE, tmp / "ours.mp4"), tmp / "ours.mp4")  # warm-up: bytecode caches written
    run(peer_cmd(SENTENCE, tmp / "peer.mp4"), tmp / "peer.mp4")
    print(f"| text | words | pipeline | wall s (median) | peak RSS MB | frames | file KB | speed-up: median of {repeats} pairs [range] | memory ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, text in (("sentence", SENTENCE), ("paragraph", PARAGRAPH)):
        ours, peer = paired(text, repeats, tmp)
        speedups = [p["wall"] / o["wall"] for o, p in zip(ours, peer)]
        memory = [o["rss_mb"] / p["rss_mb"] for o, p in zip(ours, peer)]
        med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
        words = len(text.split())
        print(f"| {name} | {words} | spoken-to-signed + PoseVisualizer | {med(peer, 'wall'):.2f} | {med(peer, 'rss_mb'):.0f} | "
              f"{med(peer, 'frames'):.0f} | {med(peer, 'kb'):.0f} | 1.0x | 1.00 |")
        print(f"| {name} | {words} | text2asl translate | {med(ours, 'wall'):.2f} | {med(ours, 'rss_mb'):.0f} | "
              f"{med(ours, 'frames'):.0f} | {med(ours, 'kb'):.0f} | {statistics.median(speedups):.1f}x "
              f"[{min(speedups):.1f}-{max(speedups):.1f}] | {statistics.median(memory):.2f} |", flush=True)


def long_table(word_counts: list[int], letters: int, formats: list[str], size: int, tmp: Path) -> None:
    print(f"\n| input ({size}x{size}) | format | wall s | peak RSS MB | frames | video min | file MB |")
    print("|---|---|---|---|---|---|---|")
    base = (PARAGRAPH + " ") * (max(word_counts) // len(PARAGRAPH.split()) + 1)
    inputs = [(f"{n} words", " ".join(base.split()[:n])) for n in word_counts]
    inputs.append((f"one {letters}-letter word", "".join(chr(ord("a") + (i * 7) % 26) for i in range(letters))))
    for label, text in inputs:
        for fmt in formats:
            out = tmp / f"long.{fmt}"
            r = run(ours_cmd(text, out, "--size", str(size)), out)
            print(f"| {label} | {fmt} | {r['wall']:.1f} | {r['rss_mb']:.0f} | {r['frames']} | {r['frames'] / 25 / 60:.1f} | "
                  f"{r['kb'] / 1024:.1f} |", flush=True)
            out.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="paired runs per text (default: %(default)s)")
    ap.add_argument("--cold", action="store_true", help="text2asl without its prepared-sign cache, as on a first run")
    ap.add_argument("--long", action="store_true", help="also show peak memory vs text length for every output format")
    ap.add_argument("--long-words", type=int, nargs="+", default=[100, 1000, 5000], metavar="N",
                    help="text lengths in words for --long (default: %(default)s)")
    ap.add_argument("--long-letters", type=int, default=5000, metavar="N",
                    help="length of the single fingerspelled word for --long (default: %(default)s)")
    ap.add_argument("--formats", nargs="+", default=["mp4", "gif", "pose"], choices=["mp4", "gif", "pose"],
                    help="output formats for --long (default: all)")
    ap.add_argument("--long-size", type=int, default=512, metavar="PX",
                    help="canvas size for --long: memory vs length is the question, smaller is quicker (default: %(default)s)")
    ap.add_argument("--skip-speed", action="store_true", help="only the --long table")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        CHILD_ENV[CACHE_ENV] = "off" if args.cold else str(Path(tmp) / "clips")
        if not args.skip_speed:
            speed_table(args.repeats, Path(tmp))
        if args.long:
            long_table(args.long_words, args.long_letters, args.formats, args.long_size, Path(tmp))


if __name__ == "__main__":
    main()
