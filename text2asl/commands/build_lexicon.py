"""`text2asl build-lexicon`: a sign lexicon + splits from WLASL, ASL Citizen or a folder of labelled clips."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from text2asl.errors import Text2ASLError
from text2asl.options import WORKERS, number

COUNT = number(int, 1, 1_000_000)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--wlasl", type=Path, metavar="JSON", help="WLASL v0.3 annotation file (WLASL_v0.3.json)")
    source.add_argument("--asl-citizen", type=Path, nargs="+", metavar="CSV",
                        help="ASL Citizen split CSV(s): train.csv, val.csv, test.csv")
    source.add_argument("--labels", type=Path, metavar="CSV",
                        help="labels.csv with columns video, gloss[, start, end (ms), split, signer]")
    parser.add_argument("--videos", type=Path, default=None,
                        help="folder holding the videos (default for --labels: the CSV's folder)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="lexicon folder to write")
    parser.add_argument("-j", "--workers", type=WORKERS, default=None,
                        help=f"worker processes, in {WORKERS.range_text} (default: the core count)")
    parser.add_argument("--glosses", type=str, default=None, help="only these glosses, comma-separated (e.g. HELLO,BOOK)")
    parser.add_argument("--limit-glosses", type=COUNT, default=None, metavar="N",
                        help=f"only the first N glosses in the metadata's order, N in {COUNT.range_text} (WLASL's first 100 = WLASL100)")
    parser.add_argument("--max-per-gloss", type=COUNT, default=None, metavar="K",
                        help=f"keep the K best instances of each gloss, K in {COUNT.range_text} (default: all, ranked)")
    parser.add_argument("--overwrite", action="store_true", help="re-extract clips whose .pose already exists")
    parser.add_argument("--shard", type=str, default=None, metavar="K/N",
                        help="only extract shard K of N of the clips (split by a hash of the clip id) and write no "
                             "index; once all N shards are done, run again without --shard to write the lexicon")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from text2asl.extract.datasets import load_asl_citizen, load_labels, load_wlasl
    from text2asl.extract.lexicon_builder import build_lexicon, extract_shard, select
    from text2asl.extract.shards import Shard

    if args.labels is not None:
        dataset = load_labels(args.labels, args.videos)
    elif args.videos is None:
        flag = "--wlasl" if args.wlasl is not None else "--asl-citizen"
        raise Text2ASLError(f"{flag} needs --videos, the folder holding the dataset's video files")
    elif args.wlasl is not None:
        dataset = load_wlasl(args.wlasl, args.videos)
    else:
        dataset = load_asl_citizen(args.asl_citizen, args.videos)
    shard = Shard.parse(args.shard) if args.shard is not None else None
    glosses = args.glosses.split(",") if args.glosses else None
    dataset = select(dataset, glosses, args.limit_glosses)
    print(f"text2asl build-lexicon: {dataset.summary()}", file=sys.stderr)
    if shard is not None:
        batch = extract_shard(dataset, args.output, shard, workers=args.workers, overwrite=args.overwrite,
                              progress=not args.quiet)
        print(f"text2asl build-lexicon: shard {shard}: {batch.summary()}; once every shard is done, run the same "
              f"command without --shard to write {args.output / 'index.csv'}", file=sys.stderr)
        return 1 if batch.failures else 0
    report = build_lexicon(dataset, args.output, workers=args.workers, max_per_gloss=args.max_per_gloss,
                           overwrite=args.overwrite, progress=not args.quiet)
    print(f"text2asl build-lexicon: {report.summary()}", file=sys.stderr)
    return 1 if report.batch.failures else 0
