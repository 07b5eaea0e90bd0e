"""`text2asl pack-lexicon`: quantise a lexicon folder's signs into small `.npz` files that a package can ship."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", type=Path, help="lexicon folder to pack (index.csv + .pose files)")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="packed lexicon folder to write (index.csv + one .npz per sign + the source's LICENSE)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary")


def run(args: argparse.Namespace) -> int:
    from text2asl.gloss_to_pose.lexicon import Lexicon, pack_lexicon

    out = pack_lexicon(args.source, args.output, progress=not args.quiet)
    if not args.quiet:
        size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
        print(f"text2asl pack-lexicon: {len(Lexicon(out))} signs, {size / 1e6:.2f} MB in {out}", file=sys.stderr)
    return 0
