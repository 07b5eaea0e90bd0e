"""`python -m text2asl.figures`: regenerate the small PNGs in figures/ that the README shows, every one of them."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from text2asl.io import make_folder
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


NONMANUAL_SENTENCES = (
    ("statement", "Your mother is tired."),
    ("yes/no question", "Is your mother tired?"),
    ("WH-question", "Why is your mother tired?"),
)


def nonmanual_faces(out: Path, sign: str = "MOTHER") -> Path:
    """The same sign in a statement, a yes/no question and a WH-question: the frame, then the face magnified.

    The middle frame of `sign` in each sentence (asl-app-lexicon when present, else the embedded
    alphabet); the title gives the gloss with its marker line and the brow height in eye widths.
    """
    from matplotlib.figure import Figure

    from text2asl.pipeline import translate
    from text2asl.pose_to_video.render import RenderConfig, SkeletonRenderer, draw_head
    from text2asl.poses.face import brow_height
    from text2asl.poses.layout import LEFT_EAR, RIGHT_EAR
    from text2asl.poses.retarget import SIGNER

    lexicon = shared_dataset("asl-app-lexicon")
    renderer = SkeletonRenderer(RenderConfig(size=320, hands_inset=False))
    fig = Figure(figsize=(3.3 * len(NONMANUAL_SENTENCES), 7.2))
    axes = fig.subplots(2, len(NONMANUAL_SENTENCES))
    for col, (kind, text) in enumerate(NONMANUAL_SENTENCES):
        t = translate(text, lexicons=[lexicon] if lexicon else [])
        label = sign if lexicon else f"fs-{sign}"
        chunk, captions = next((c, caps) for c, caps in t.chunks() if c.meta["label"] == label)
        own = chunk.meta["transition_frames"]
        i = own + (len(chunk) - own) // 2
        xyz, conf = chunk.xyz[i], chunk.conf[i]
        axes[0, col].imshow(renderer.frame(xyz, conf, captions[i]))
        axes[0, col].set_title(f"{kind}\n{t.gloss.annotated()}", fontsize=9, family="monospace")
        size, zoom = 300, 400.0  # pixels per shoulder width
        face = np.full((size, size, 3), 255, np.uint8)
        centre = (xyz[LEFT_EAR, :2] + xyz[RIGHT_EAR, :2]) / 2
        draw_head(face, (xyz[:, :2] - centre) * zoom + size / 2, conf, 3, width=SIGNER.head * zoom)
        axes[1, col].imshow(face)
        height = float(brow_height(chunk.xyz[own:], chunk.conf[own:]).mean())
        axes[1, col].set_title(f"brows {height:.2f} eye widths above the eyes", fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([]), ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(out, dpi=80)
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
    from matplotlib.figure import Figure

    from text2asl.evaluation.protocol import embedded_suite, run_suite
    from text2asl.evaluation.report import plot_per_gloss

    rows = run_suite(embedded_suite(), images=False, progress=False)
    fig = Figure(figsize=(10, 3.2))
    plot_per_gloss(rows, rows[0]["suite"], "dtw_mje", ax=fig.subplots())
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    return out


def _diffusion_base(base_model: str):
    """(pipeline, train_base.json, up to six well-known training glosses) of a base made by `text2asl train-base`."""
    from text2asl.diffusion.caption import gloss_token
    from text2asl.diffusion.model import base_info, load_pipeline
    from text2asl.gloss_to_pose.sublexicon import EXAMPLE_GLOSSES

    info = base_info(base_model)
    glosses = [g for g in map(gloss_token, EXAMPLE_GLOSSES) if g in info["training_glosses"]][:6]
    return load_pipeline(base_model, device="cpu"), info, glosses


def _real_keyframes(glosses, resolution: int, n_phases: int, folder: Path) -> dict[str, np.ndarray] | None:
    """{gloss: (n_phases, R, R, 3) uint8} real keyframes from the asl-app lexicon, or None when it is absent."""
    from text2asl.diffusion.dataset import gloss_keyframes, skeleton_dataset

    lexicon = shared_dataset("asl-app-lexicon")
    if lexicon is None:
        return None
    return gloss_keyframes(skeleton_dataset([lexicon], folder / "data", resolution, n_phases, glosses=glosses), glosses)


def _save_palette_png(fig, out: Path, dpi: int) -> None:
    """Save `fig` as a 256-colour PNG: the blurry diffusion keyframes make a truecolour figure ~3x larger."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    buf.seek(0)
    with Image.open(buf) as im:
        im.convert("RGB").quantize(colors=256).save(out, optimize=True)


def diffusion_keyframes(out: Path, base_model: str = "tiny-asl") -> Path:
    """The tiny-asl base's keyframes of four training glosses (seed 0) under the real ones, phases left to right."""
    import tempfile

    import matplotlib.pyplot as plt  # the plot helpers are pyplot's (notebooks show them); closed after saving

    from text2asl.diffusion.generate import generate_keyframes, generation_config
    from text2asl.diffusion.plots import plot_keyframe_grid

    pipe, info, glosses = _diffusion_base(base_model)
    glosses = glosses[:4]
    generated = generate_keyframes(pipe, glosses, generation_config(base_model, seed=0, num_inference_steps=20),
                                   progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        real = _real_keyframes(glosses, info["resolution"], info["n_phases"], Path(tmp))
    rows = []
    for g, frames in zip(glosses, generated):
        rows += ([(f"{g}\nreal", real[g])] if real else []) + [(f"{g}\ntiny-asl", frames)]
    fig = plot_keyframe_grid(rows)
    fig.tight_layout()
    _save_palette_png(fig, out, dpi=80)
    plt.close(fig)
    return out


def diffusion_attention(out: Path, base_model: str = "tiny-asl") -> Path:
    """Each gloss word's cross-attention over the tiny-asl keyframe it draws (middle phase, seed 0), hand boxes outlined."""
    import tempfile

    import matplotlib.pyplot as plt  # the plot helpers are pyplot's (notebooks show them); closed after saving

    from text2asl.evaluation import keyframes
    from text2asl.diffusion.attention import attention_maps, plot_gloss_grid
    from text2asl.diffusion.caption import caption
    from text2asl.diffusion.dataset import skeleton_dataset
    from text2asl.diffusion.generate import generation_config

    pipe, info, glosses = _diffusion_base(base_model)
    n, phase = info["n_phases"], (info["n_phases"] + 1) // 2
    maps = attention_maps(pipe, [caption(g, phase, n) for g in glosses],
                          generation_config(base_model, seed=0, num_inference_steps=20))
    fig = plot_gloss_grid(maps)
    lexicon = shared_dataset("asl-app-lexicon")
    if lexicon is not None:  # outline the hands of the real keyframe, and say how much attention they get
        with tempfile.TemporaryDirectory() as tmp:
            data = skeleton_dataset([lexicon], Path(tmp) / "data", info["resolution"], n, glosses=glosses)
            masks = keyframes.keyframe_hand_masks(lexicon, data, glosses)
        for ax, g, m in zip(np.asarray(fig.axes).reshape(2, -1)[1], glosses, maps):
            ax.contour(masks[g][phase - 1], levels=[0.5], colors="white", linewidths=1.0)
            ax.set_title(f"on the hands: {keyframes.hand_share_lift(m.gloss().heat, masks[g][phase - 1]):.1f}x", fontsize=8)
    fig.tight_layout()
    _save_palette_png(fig, out, dpi=80)
    plt.close(fig)
    return out


FIGURES = {
    "lexicon_track.png": lexicon_track_strip,
    "mixed_lexicon_sheet.png": mixed_lexicon_sheet,
    "nonmanual_faces.png": nonmanual_faces,
    "extraction_overlay.png": extraction_overlay,
    "evaluation_dtw_mje.png": evaluation_per_gloss,
    "diffusion_keyframes.png": diffusion_keyframes,
    "diffusion_attention.png": diffusion_attention,
}
DIFFUSION_FIGURES = ("diffusion_keyframes.png", "diffusion_attention.png")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("names", nargs="*", help=f"figures to make (default: all): {', '.join(FIGURES)}")
    ap.add_argument("-o", "--out", type=Path, default=None, help="folder (default: figures/ in the checkout)")
    ap.add_argument("--base-model", default="tiny-asl",
                    help="base drawn by the diffusion figures: tiny-asl (shipped) or a train-base DIR/model folder")
    args = ap.parse_args(argv)
    unknown = [n for n in args.names if n not in FIGURES]
    if unknown:
        ap.error(f"no figure named {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
    out = args.out or figures_dir()
    make_folder(out, "figures folder")
    for name in args.names or FIGURES:
        extra = {"base_model": args.base_model} if name in DIFFUSION_FIGURES else {}
        path = FIGURES[name](out / name, **extra)
        print(f"wrote {path}" if path else f"skipped {name}: the data it shows is absent (see its docstring)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
