"""`python -m text2asl.figures`: regenerate the small PNGs in figures/ that the README shows, every one of them."""
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


MIXED_LEXICON_TEXT = "Hello! My mother is tired today. Where is the bathroom? I need water, please."


def mixed_lexicon_sheet(out: Path) -> Path | None:
    """One frame from the middle of each sign of a sentence signed with asl-app-lexicon and the alphabet.

    The signs were recorded with different proportions and faces (33 points or a full mesh); the
    sheet shows them on one body with one head. None (nothing written) without asl-app-lexicon.
    """
    import imageio.v3 as iio

    from text2asl.pose_to_video.gallery import frame_grid
    from text2asl.pose_to_video.render import RenderConfig, SkeletonRenderer
    from text2asl.pipeline import translate

    lexicon = shared_dataset("asl-app-lexicon")
    if lexicon is None:
        return None
    renderer = SkeletonRenderer(RenderConfig(size=224))
    frames = []
    for chunk, captions in translate(MIXED_LEXICON_TEXT, lexicons=[lexicon]).chunks():
        own = chunk.meta["transition_frames"]
        t = own + (len(chunk) - own) // 2
        frames.append(renderer.frame(chunk.xyz[t], chunk.conf[t], captions[t]))
    iio.imwrite(out, frame_grid(frames, ncols=6))
    return out


def extraction_overlay(out: Path) -> Path:
    """MediaPipe Holistic landmarks over skimage's astronaut photo (a public-domain NASA image).

    The real signing clips in ../shared/data may not be redistributed, so the README's figure
    uses the photo every scikit-image install ships.
    """
    import tempfile

    from text2asl.extract.overlay import save_overlay_png
    from text2asl.extract.sample_video import astronaut_video

    with tempfile.TemporaryDirectory() as tmp:
        video = astronaut_video(Path(tmp) / "astronaut.mp4", n_frames=2, size=256)
        return save_overlay_png(video, out, index=0)


def evaluation_per_gloss(out: Path) -> Path:
    """DTW-MJE per letter on the embedded-alphabet suite: copies, another letter and the still-pose baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from text2asl.evaluation.protocol import embedded_suite, run_suite
    from text2asl.evaluation.report import plot_per_gloss

    rows = run_suite(embedded_suite(), images=False, progress=False)
    fig, ax = plt.subplots(figsize=(10, 3.2))
    plot_per_gloss(rows, rows[0]["suite"], "dtw_mje", ax=ax)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def diffusion_tiny(out: Path) -> Path | None:
    """The tiny preset's keyframes and loss curve, both written by `benchmarks/diffusion_tiny_quality.py`.

    That script trains the tiny preset for 10 minutes on ../shared/data/asl-app-lexicon and also
    prints the SSIM/PSNR table the README quotes, so the figures and numbers come from one run.
    None (nothing made) without that lexicon or outside a source checkout.
    """
    import subprocess
    import sys

    from text2asl.paths import repo_root

    script = repo_root() / "benchmarks" / "diffusion_tiny_quality.py"
    if not script.is_file() or shared_dataset("asl-app-lexicon") is None:
        return None
    subprocess.run([sys.executable, str(script), "--figures", str(out.parent)], check=True)
    return out


FIGURES = {
    "lexicon_track.png": lexicon_track_strip,
    "mixed_lexicon_sheet.png": mixed_lexicon_sheet,
    "extraction_overlay.png": extraction_overlay,
    "evaluation_dtw_mje.png": evaluation_per_gloss,
    # ~12 minutes on 2 cores: name the others to skip it.
    "diffusion_tiny_keyframes.png": diffusion_tiny,
    "diffusion_tiny_loss.png": diffusion_tiny,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("names", nargs="*", help=f"figures to make (default: all): {', '.join(FIGURES)}")
    ap.add_argument("-o", "--out", type=Path, default=None, help="folder (default: figures/ in the checkout)")
    args = ap.parse_args(argv)
    unknown = [n for n in args.names if n not in FIGURES]
    if unknown:
        ap.error(f"no figure named {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
    out = args.out or figures_dir()
    out.mkdir(parents=True, exist_ok=True)
    made = set()
    for name in args.names or FIGURES:
        if FIGURES[name] in made:  # one run writes both diffusion figures
            continue
        made.add(FIGURES[name])
        path = FIGURES[name](out / name)
        print(f"wrote {path}" if path else f"skipped {name}: the data it shows is absent (see its docstring)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
