"""`text2asl make-dataset`: render lexicon signs into a captioned skeleton-image dataset for diffusion training."""
from __future__ import annotations

import argparse

from text2asl.diffusion.ranges import PHASES_RANGE, RESOLUTION_RANGE, THICKNESS_RANGE
from text2asl.options import number

RESOLUTION, PHASES, THICKNESS = (number(int, *r) for r in (RESOLUTION_RANGE, PHASES_RANGE, THICKNESS_RANGE))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lexicon", action="append", required=True, metavar="DIR",
                        help="lexicon folder with index.csv (repeat for several); 'embedded' = the ASL alphabet")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="dataset folder to create or complete")
    parser.add_argument("--base-model", default=None, metavar="NAME",
                        help="fit the images to a base: 'tiny-asl' sets its resolution and phases (64 and 4)")
    parser.add_argument("--resolution", type=RESOLUTION, default=None,
                        help=f"image size in pixels {RESOLUTION.range_text} (default 512, or the base's)")
    parser.add_argument("--phases", type=PHASES, default=None, help=f"keyframes per sign {PHASES.range_text} (default 8, or the base's)")
    parser.add_argument("--thickness", type=THICKNESS, default=None,
                        help=f"line thickness in pixels {THICKNESS.range_text} (default: scaled to the resolution)")
    parser.add_argument("--no-face", action="store_true", help="leave the face contour out of the images")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from text2asl.diffusion.dataset import make_dataset, read_info, read_metadata
    from text2asl.diffusion.model import base_info
    from text2asl.gloss_to_pose.lexicon import Lexicon

    made = base_info(args.base_model) if args.base_model else {}
    resolution = args.resolution or made.get("resolution") or 512
    phases = args.phases or made.get("n_phases") or 8
    lexicons = [Lexicon.embedded() if lex == "embedded" else lex for lex in args.lexicon]
    out = make_dataset(lexicons, args.output, resolution=resolution, n_phases=phases,
                       thickness=args.thickness, face=not args.no_face, progress=not args.quiet)
    rows, info = read_metadata(out), read_info(out)
    print(f"{out}: {len(rows)} images of {len(info.get('glosses', {}))} glosses, "
          f"{phases} phases each, {resolution}x{resolution}")
    return 0
