"""Benchmark: text -> H.264 skeleton video, text2asl vs the peer pipeline (spoken-to-signed + pose-format).

Both pipelines sign the same texts with the same lexicon (the ASL fingerspelling alphabet shipped in
spoken-to-signed) and encode H.264 with imageio-ffmpeg. Each run is a fresh process, so import
time and peak memory (ru_maxrss) are measured as a user meets them; runs alternate and the median
of REPEATS is reported. The peer: spoken-to-signed's `simple` glosser -> `CSVPoseLookup` with
`FingerspellingPoseLookup` backup -> `gloss_to_pose` -> pose-format `PoseVisualizer.draw()` at 512x512
-> imageio-ffmpeg libx264, frames streamed one by one (as fair to the peer as we can make it).

    .venv/bin/python benchmarks/bench_translate.py [--repeats 3] [--long]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

SENTENCE = "Hello, my name is Sam and I like pizza."
PARAGRAPH = (
    "My family lives in a small town near the lake. Every morning my mother walks the dog and my father "
    "makes coffee. Yesterday my sister Anna visited us with her two children. We ate breakfast together, "
    "talked about school and played games in the garden. Tomorrow they will drive home, but next summer "
    "we want to travel to Boston together."
)

OURS = textwrap.dedent("""
    import json, resource, sys, time
    t0 = time.perf_counter()
    from text2asl.pipeline import save, translate
    t = translate(sys.argv[1])
    save(t, sys.argv[2])
    wall, rss = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    import imageio_ffmpeg
    n = imageio_ffmpeg.count_frames_and_secs(sys.argv[2])[0]
    print(json.dumps({"wall": wall, "rss_mb": rss, "frames": n}))
""")

PEER = textwrap.dedent("""
    import json, resource, sys, time
    t0 = time.perf_counter()
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
    n = 0
    for frame in viz.draw():
        w.send(np.ascontiguousarray(frame[..., ::-1]))
        n += 1
    w.close()
    print(json.dumps({"wall": time.perf_counter() - t0, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "frames": n}))
""")


def run(script: str, text: str, out: Path) -> dict:
    t = subprocess.run([sys.executable, "-c", script, text, str(out)], capture_output=True, text=True)
    if t.returncode:
        raise RuntimeError(t.stderr[-2000:])
    return json.loads(t.stdout.strip().splitlines()[-1])


def median_of(results: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--long", action="store_true", help="also show peak memory vs text length (100..2000 words)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    print("| text | words | pipeline | wall s | peak RSS MB | frames | speed-up | memory ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name, text in (("sentence", SENTENCE), ("paragraph", PARAGRAPH)):
        ours, peer = [], []
        for _ in range(args.repeats):
            ours.append(run(OURS, text, tmp / "ours.mp4"))
            peer.append(run(PEER, text, tmp / "peer.mp4"))
        o, p = median_of(ours), median_of(peer)
        words = len(text.split())
        print(f"| {name} | {words} | spoken-to-signed + PoseVisualizer | {p['wall']:.2f} | {p['rss_mb']:.0f} | {p['frames']:.0f} | 1.0x | 1.00 |")
        print(f"| {name} | {words} | text2asl | {o['wall']:.2f} | {o['rss_mb']:.0f} | {o['frames']:.0f} | "
              f"{p['wall'] / o['wall']:.1f}x | {o['rss_mb'] / p['rss_mb']:.2f} |")
    if args.long:
        print("\n| words | text2asl wall s | peak RSS MB | frames | video s |")
        print("|---|---|---|---|---|")
        base = (PARAGRAPH + " ") * 40
        for n in (100, 500, 2000):
            text = " ".join(base.split()[:n])
            r = run(OURS, text, tmp / "long.mp4")
            print(f"| {n} | {r['wall']:.1f} | {r['rss_mb']:.0f} | {r['frames']:.0f} | {r['frames'] / 25:.0f} |")


if __name__ == "__main__":
    main()
