"""`text2asl overlay`: draw the extracted skeleton over a video's own frames (mp4/gif, or one frame as .png)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from text2asl.options import FRAME_INDEX, number

THICKNESS = number(int, 1, 64)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", type=Path, help="the source video")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="overlay video (.mp4 H.264 or .gif), or .png for a single frame")
    parser.add_argument("--pose", type=Path, default=None,
                        help="the video's .pose from `text2asl extract` (default: extract it now)")
    parser.add_argument("--frame", type=FRAME_INDEX, default=None,
                        help=f"for .png: 0-based frame, in {FRAME_INDEX.range_text} (default: mid-sign, the middle of the frames with the most hand points)")
    parser.add_argument("--filtered", action="store_true",
                        help="draw after gap filling and smoothing instead of the raw detections")
    parser.add_argument("--thickness", type=THICKNESS, default=2,
                        help=f"line thickness in pixels, in {THICKNESS.range_text} (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    from text2asl.errors import Text2ASLError
    from text2asl.extract.overlay import overlay_video, save_overlay_png

    if not args.video.is_file():
        raise Text2ASLError(f"video {args.video} does not exist")
    if args.output.suffix.lower() == ".png":
        path = save_overlay_png(args.video, args.output, args.frame, args.pose, args.filtered, args.thickness)
    else:
        if args.frame is not None:
            raise Text2ASLError("--frame picks the frame of a .png; give -o something.png or drop --frame")
        path = overlay_video(args.video, args.output, args.pose, args.filtered, args.thickness)
    print(f"text2asl overlay: wrote {path}", file=sys.stderr)
    return 0
