"""`text2asl evaluate`: SSIM/PSNR, DTW-MJE and recognition accuracy with baselines, as CSV + markdown + plots.

Suites run:
* always (fresh clone): the embedded ASL alphabet against controlled copies and baselines;
* `--held-out LEX --training LEX`: the held-out protocol on your own lexicons (e.g. the test and
  train splits of `text2asl build-lexicon`);
* with ../shared/data beside the checkout (or `--shared-data DIR`): ASL-App lexicon (training
  signer) vs the clips of real-videos (held-out signer), whose poses are extracted once into
  OUT/real-videos-lexicon with `text2asl.extract` (resumable; nothing is written to the data).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from text2asl.errors import Text2ASLError
from text2asl.io import VIDEO_READ_SUFFIXES, make_folder
from text2asl.options import WORKERS, number

SIZE = number(int, 32, 2048)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path, required=True, help="folder for results.csv, summary.md and the plots")
    parser.add_argument("--held-out", type=Path, default=None, metavar="LEXICON_DIR", help="real reference signs (held-out split or signer)")
    parser.add_argument("--training", type=Path, default=None, metavar="LEXICON_DIR", help="the lexicon the pose track signs with")
    parser.add_argument("--diffusion-frames", type=Path, default=None, metavar="DIR",
                        help="generated videos of the diffusion track, one per gloss named <gloss>.mp4/.gif (with --held-out)")
    parser.add_argument("--diffusion-base", type=str, default=None, metavar="MODEL",
                        help="diffusion track: base model (hub id, local folder, or 'tiny') generating each held-out gloss")
    parser.add_argument("--diffusion-lora", type=Path, default=None, metavar="DIR", help="diffusion track: a train-lora output folder")
    parser.add_argument("--shared-data", type=Path, default=None, metavar="DIR",
                        help="real data folder (default: ../shared/data beside the checkout, or $TEXT2ASL_SHARED_DATA, when it exists)")
    parser.add_argument("--no-shared-data", action="store_true", help="skip the ../shared/data suite even if present")
    parser.add_argument("--skip-embedded", action="store_true", help="skip the embedded alphabet suite")
    parser.add_argument("--align", choices=("dtw", "resample"), default="dtw",
                        help="pairing of frames of different-length videos for SSIM/PSNR (default: dtw on the poses)")
    parser.add_argument("--size", type=SIZE, default=256, help=f"square render size for SSIM/PSNR, in {SIZE.range_text} (default 256)")
    parser.add_argument("--no-images", action="store_true", help="skip SSIM/PSNR (pose metrics only; much faster)")
    parser.add_argument("-j", "--workers", type=WORKERS, default=None,
                        help=f"processes for SSIM/PSNR, in {WORKERS.range_text} (default: the core count)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    _check(args)
    held_out = training = None
    if args.held_out is not None:  # opened before the output folder exists: a bad lexicon leaves nothing behind
        held_out, training = _lexicon(args.held_out, "--held-out"), _lexicon(args.training, "--training")
    created = not args.output.exists()
    make_folder(args.output, "--output folder")
    try:
        return _evaluate(args, held_out, training)
    except BaseException:
        if created and not any(args.output.iterdir()):
            args.output.rmdir()
        raise


def _lexicon(path: Path, flag: str):
    from text2asl.gloss_to_pose.lexicon import Lexicon

    lexicon = Lexicon(path)
    if not lexicon.entries:
        raise Text2ASLError(f"{flag} lexicon {path} has no ASL signs; give a lexicon whose index.csv lists some")
    return lexicon


def _evaluate(args: argparse.Namespace, held_out, training) -> int:
    from text2asl.evaluation.protocol import embedded_suite, held_out_suite, recognition_rows, run_suite
    from text2asl.evaluation.report import summary_table, write_report
    from text2asl.gloss_to_pose.lexicon import Lexicon

    suites, rows, notes = [], [], []
    from text2asl.paths import shared_data_dir

    shared = None if args.no_shared_data else (args.shared_data or shared_data_dir())
    app = real = None
    if shared is not None:
        if not shared.is_dir():
            raise Text2ASLError(f"--shared-data {shared} is not a folder")
        app_dir, videos = shared / "asl-app-lexicon", shared / "real-videos" / "labels.csv"
        if (app_dir / "index.csv").is_file():
            app = Lexicon(app_dir)
        if app is not None and videos.is_file():
            real = _real_videos_lexicon(videos, args.output / "real-videos-lexicon", args.workers, not args.quiet)
    if not args.skip_embedded:
        suites.append(embedded_suite(other_signer_lexicon=app))
    diffusion = _frames_folder(args.diffusion_frames) if args.diffusion_frames else _generator(args)
    if args.held_out is not None:
        suites.append(held_out_suite(held_out, training, "held-out", diffusion=diffusion))
    if real is not None:
        suites.append(held_out_suite(real, app, "real-videos vs asl-app-lexicon", diffusion=diffusion))
        rows += recognition_rows("recognition: real-videos -> asl-app-lexicon",
                                 [(e.gloss, real.load(e)) for e in real.entries], [(e.gloss, app.load(e)) for e in app.entries])
    if app is not None:
        emb = Lexicon.embedded()
        letters = [(e.gloss, app.load(e)) for e in app.entries if len(e.gloss) == 1]
        rows += recognition_rows("recognition: embedded alphabet -> asl-app-lexicon",
                                 [(e.gloss, emb.load(e)) for e in emb.entries], [(e.gloss, app.load(e)) for e in app.entries])
        rows += recognition_rows("recognition: asl-app letters -> embedded alphabet",
                                 letters, [(e.gloss, emb.load(e)) for e in emb.entries])
    if not suites and not rows:
        raise Text2ASLError("nothing to evaluate: drop --skip-embedded, or give --held-out and --training")
    for suite in suites:
        notes += [f"{suite.name}: {n}" for n in suite.notes]
        rows = run_suite(suite, args.align, args.size, not args.no_images, args.workers, not args.quiet) + rows
    notes.append(f"SSIM/PSNR: frames rendered at {args.size}² by one SkeletonRenderer, aligned by {args.align}; "
                 "PSNR of identical frames capped at 100 dB")
    paths = write_report(rows, args.output, notes)
    print(summary_table([r for r in rows if "frame" not in r]))
    print(f"text2asl evaluate: wrote {', '.join(str(p) for p in paths.values())}", file=sys.stderr)
    return 0


def _check(args: argparse.Namespace) -> None:
    if (args.held_out is None) != (args.training is None):
        raise Text2ASLError("--held-out and --training go together: give both lexicon folders")
    if args.diffusion_frames is not None and args.held_out is None:
        raise Text2ASLError("--diffusion-frames needs --held-out and --training (the references to score against)")
    if args.diffusion_lora is not None and args.diffusion_base is None:
        raise Text2ASLError("--diffusion-lora needs --diffusion-base, the model the LoRA was trained on")
    if args.diffusion_frames is not None and not args.diffusion_frames.is_dir():
        raise Text2ASLError(f"--diffusion-frames {args.diffusion_frames} is not a folder of videos")
    if args.output.exists() and not args.output.is_dir():
        raise Text2ASLError(f"--output {args.output} is a file; give a folder")


def _real_videos_lexicon(labels: Path, out: Path, workers: int | None, progress: bool):
    """The real-videos clips as a lexicon (MediaPipe poses extracted once into `out`, then reused)."""
    from text2asl.extract.datasets import load_labels
    from text2asl.extract.lexicon_builder import build_lexicon
    from text2asl.gloss_to_pose.lexicon import Lexicon

    if not (out / "index.csv").is_file():
        build_lexicon(load_labels(labels), out, workers=workers, progress=progress)
    return Lexicon(out)


def _generator(args: argparse.Namespace):
    """gloss -> (T, size, size, 3) uint8 frames from `text2asl.diffusion.generate`, or None without --diffusion-base."""
    if args.diffusion_base is None:
        return None
    import numpy as np

    from text2asl.diffusion.generate import render_glosses

    def frames(gloss: str) -> np.ndarray:
        return np.stack(list(render_glosses([gloss], args.diffusion_base, args.diffusion_lora, size=args.size, progress=False)))

    return frames


def _frames_folder(folder: Path):
    """gloss -> (T, H, W, 3) uint8 frames read from <folder>/<gloss>.<video suffix> (any case, '-' or '_' for spaces)."""
    import numpy as np

    from text2asl.gloss_to_pose.lexicon import gloss_key
    from text2asl.io import read_video

    files = {gloss_key(p.stem): p for p in folder.iterdir() if p.suffix.lower() in VIDEO_READ_SUFFIXES}
    if not files:
        raise Text2ASLError(f"--diffusion-frames {folder} holds no video ({', '.join(VIDEO_READ_SUFFIXES)})")

    def frames(gloss: str) -> np.ndarray:
        path = files.get(gloss_key(gloss))
        if path is None:
            raise Text2ASLError(f"--diffusion-frames {folder} has no video for {gloss}; name it {gloss.lower().replace(' ', '-')}.mp4")
        it, _ = read_video(path)
        video = np.stack(list(it))
        if video.shape[1] != video.shape[2]:
            raise Text2ASLError(f"{path} is {video.shape[2]}x{video.shape[1]}; generated skeleton videos must be square")
        return video

    return frames
