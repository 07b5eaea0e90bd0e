"""`text2asl extract`: MediaPipe Holistic poses from videos, one .pose per video, resumable."""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from text2asl.errors import Text2ASLError
from text2asl.options import FRAME_INDEX, MILLISECONDS, SHARD_COUNT, WORKERS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("videos", nargs="+", type=Path, help="video files, or folders searched for videos")
    parser.add_argument("-o", "--output", type=Path, required=True, help="folder for the .pose files (<video stem>.pose)")
    parser.add_argument("-j", "--workers", type=WORKERS, default=None,
                        help=f"worker processes, in {WORKERS.range_text} (default: the core count)")
    parser.add_argument("--start", type=MILLISECONDS, default=None,
                        help=f"start of the clip in milliseconds, in {MILLISECONDS.range_text} (every video)")
    parser.add_argument("--end", type=MILLISECONDS, default=None,
                        help=f"end of the clip in milliseconds, in {MILLISECONDS.range_text} (every video)")
    parser.add_argument("--start-frame", type=FRAME_INDEX, default=None,
                        help=f"first frame, 0-based, in {FRAME_INDEX.range_text} (overrides --start)")
    parser.add_argument("--end-frame", type=FRAME_INDEX, default=None,
                        help=f"frame after the last, 0-based, in {FRAME_INDEX.range_text} (overrides --end)")
    parser.add_argument("--bbox", type=str, default=None, metavar="X0,Y0,X1,Y1",
                        help="person box in pixels: only that part of each frame is shown to MediaPipe")
    parser.add_argument("--overwrite", action="store_true", help="redo videos whose .pose already exists")
    parser.add_argument("--failures", type=Path, default=None,
                        help="failures report CSV (default: <output>/failures.csv, written only if something fails; "
                             "with --shard K/N: failures.shard-K-of-N.csv)")
    parser.add_argument("--shard", type=str, default=None, metavar="K/N",
                        help="extract only shard K of N (1 <= K <= N), split by a hash of each video's path relative "
                             "to its input folder: N copies (a SLURM array, xargs -P) can share one output folder")
    parser.add_argument("--status", type=SHARD_COUNT, nargs="?", const=1, default=None, metavar="N",
                        help=f"extract nothing: print done / failed / missing per shard of an N-shard run, N in {SHARD_COUNT.range_text} (default 1) "
                             "and merge the shards' failures into --failures; exit 1 unless all are done")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
    except ValueError:
        raise Text2ASLError(f"--bbox {text!r} is not four numbers X0,Y0,X1,Y1 in pixels") from None
    if not all(math.isfinite(v) and abs(v) <= 1e6 for v in (x0, y0, x1, y1)):
        raise Text2ASLError(f"--bbox {text!r} must be four finite pixel coordinates within ±1e6")
    if x1 <= x0 or y1 <= y0:
        raise Text2ASLError(f"--bbox {text!r} is empty: X1 must exceed X0 and Y1 exceed Y0")
    return x0, y0, x1, y1


def run(args: argparse.Namespace) -> int:
    from text2asl.extract.batch import jobs_for_videos, run_batch
    from text2asl.extract.holistic import Clip
    from text2asl.extract.shards import Shard, failures_path
    from text2asl.io import check_output_path, make_folder

    for lo, hi in (("start", "end"), ("start_frame", "end_frame")):
        a, b = getattr(args, lo), getattr(args, hi)
        if a is not None and b is not None and b <= a:
            raise Text2ASLError(f"--{hi.replace('_', '-')} {b} must come after --{lo.replace('_', '-')} {a}")
    clip = Clip(args.start_frame, args.end_frame, args.start, args.end, parse_bbox(args.bbox))
    if args.status is not None and args.shard is not None:
        raise Text2ASLError("give either --shard K/N (extract one shard) or --status N (report on all N shards), not both")
    shard = Shard.parse(args.shard) if args.shard is not None else None
    jobs = jobs_for_videos(args.videos, args.output, clip)
    failures_base = args.failures or args.output / "failures.csv"
    if args.status is not None:
        return status(jobs, args.status, failures_base)
    if args.failures:  # a report that cannot be written fails before any video is extracted
        check_output_path(make_folder(args.failures.parent, "--failures folder") / args.failures.name, (".csv",))
    result = run_batch(jobs, workers=args.workers, failures_csv=failures_base, overwrite=args.overwrite,
                       progress=not args.quiet, shard=shard)
    failures_csv = failures_path(failures_base, shard)
    where = f"shard {shard}: " if shard is not None else ""
    print(f"text2asl extract: {where}{result.summary()}; poses in {args.output}", file=sys.stderr)
    if result.failures:
        for f in result.failures[:5]:
            print(f"  {f.reason}: {f.message}", file=sys.stderr)
        if len(result.failures) > 5:
            print(f"  ... and {len(result.failures) - 5} more", file=sys.stderr)
        print(f"text2asl extract: failures listed in {failures_csv}", file=sys.stderr)
        return 1
    return 0


def status(jobs, count: int, failures_base: Path) -> int:
    """Print the coverage table of an N-shard run and merge its failures; 0 only when every video is done."""
    from text2asl.extract.batch import merge_failures
    from text2asl.extract.shards import coverage, coverage_table

    report = coverage(jobs, count, failures_base)
    print(coverage_table(report))
    merged = merge_failures(report, failures_base) if count > 1 else None
    if merged is not None:
        print(f"text2asl extract: the failures of all {count} shards are merged in {merged}", file=sys.stderr)
    return 0 if all(c.complete for c in report) else 1
