"""`python -m text2asl.figures`: regenerate the small PNGs in figures/ that the README shows."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from text2asl.paths import figures_dir, shared_dataset


def lexicon_track_strip(out: Path) -> Path:
    """Frames of one translated sentence (real word lexicon when present, else the alphabet)."""
    import imageio.v3 as iio

    from text2asl.pipeline import render_frames, translate
    from text2asl.pose_to_video.gallery import frame_grid, sample_evenly
    from text2asl.pose_to_video.render import RenderConfig

    lexicon = shared_dataset("asl-app-lexicon")
    text = "Hello! My name is Sam. Thank you." if lexicon else "Hello, my name is Sam."
    t = translate(text, lexicons=[lexicon] if lexicon else [])
    frames = list(render_frames(t, RenderConfig(size=192)))
    iio.imwrite(out, frame_grid(sample_evenly(frames, 8), ncols=8))
    return out


FIGURES = {
    "lexicon_track.png": lexicon_track_strip,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("names", nargs="*", help=f"figures to make (default: all): {', '.join(FIGURES)}")
    ap.add_argument("-o", "--out", type=Path, default=None, help="folder (default: figures/ in the checkout)")
    args = ap.parse_args(argv)
    out = args.out or figures_dir()
    out.mkdir(parents=True, exist_ok=True)
    for name in args.names or FIGURES:
        path = FIGURES[name](out / name)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
