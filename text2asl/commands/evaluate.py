"""`text2asl evaluate`: compare generated signs with references, or run the evaluation suites (`evaluation.protocol`).

* `--pred GENERATED.(mp4|gif|pose) --ref REFERENCE.(mp4|gif|pose)`: SSIM, PSNR and DTW-MJE of one
  pair with the frame pairing used; `--pred FOLDER --ref LEXICON_DIR` scores every <gloss>.* file
  in the folder against the lexicon's sign for that gloss; `-o DIR` adds pairs.csv, frames.csv and
  a side-by-side PNG per pair (`evaluation.pair`); `--extract-ref` when the reference is a camera
  recording (its MediaPipe poses are compared).
* otherwise the suites of `protocol.evaluate`, written as results.csv + summary.md + plots to -o:
  always (fresh clone) the embedded ASL alphabet against controlled copies and baselines;
  `--held-out LEX --training LEX` the held-out protocol on your own lexicons; with ../shared/data
  beside the checkout (or `--shared-data DIR`) the ASL-App lexicon (training signer) vs the clips
  of real-videos (held-out signer), extracted once into OUT/real-videos-lexicon (resumable).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from text2asl.errors import Text2ASLError
from text2asl.io import make_folder
from text2asl.options import WORKERS, number

SIZE = number(int, 32, 2048)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pred", type=Path, default=None, metavar="GENERATED",
                        help="a generated sign (.mp4, .gif or .pose) or a folder of <gloss>.* files, compared with --ref")
    parser.add_argument("--ref", type=Path, default=None, metavar="REFERENCE",
                        help="the reference sign (.mp4, .gif or .pose), or a lexicon folder when --pred is a folder")
    parser.add_argument("--extract-ref", action="store_true",
                        help="the --ref video is a camera recording: extract its poses with MediaPipe and compare those")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="folder for results.csv, summary.md and the plots (with --pred: pairs.csv, frames.csv, PNGs)")
    parser.add_argument("--held-out", type=Path, default=None, metavar="LEXICON_DIR", help="real reference signs (held-out split or signer)")
    parser.add_argument("--training", type=Path, default=None, metavar="LEXICON_DIR", help="the lexicon the pose track signs with")
    parser.add_argument("--diffusion-frames", type=Path, default=None, metavar="DIR",
                        help="generated videos of the diffusion track, one per gloss named <gloss>.mp4/.gif (with --held-out)")
    parser.add_argument("--diffusion-base", type=str, default=None, metavar="MODEL",
                        help="diffusion track: base model (hub id, local folder, or 'tiny-asl', the shipped toy base) generating each held-out gloss")
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
    if args.pred is not None:
        return _run_pair(args)
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
    """The suites of `protocol.evaluate`, reported in args.output."""
    from text2asl.evaluation import protocol
    from text2asl.evaluation.report import write_report
    from text2asl.paths import shared_data_dir

    shared = None if args.no_shared_data else (args.shared_data or shared_data_dir())
    app, real = protocol.shared_lexicons(shared, args.output / "real-videos-lexicon", workers=args.workers, progress=not args.quiet)
    if args.skip_embedded and held_out is None and app is None:
        raise Text2ASLError("nothing to evaluate: drop --skip-embedded, or give --held-out and --training")
    if args.diffusion_frames is not None:
        diffusion = protocol.frames_folder(args.diffusion_frames)
    elif args.diffusion_base is not None:
        diffusion = protocol.diffusion_generator(args.diffusion_base, args.diffusion_lora, args.size)
    else:
        diffusion = None
    result = protocol.evaluate(not args.skip_embedded, app, real, held_out, training, diffusion, args.align, args.size,
                               not args.no_images, args.workers, not args.quiet)
    paths = write_report(result.rows, args.output, result.notes)
    print(result.table())
    print(f"text2asl evaluate: wrote {', '.join(str(p) for p in paths.values())}", file=sys.stderr)
    return 0


def _run_pair(args: argparse.Namespace) -> int:
    from text2asl.evaluation import pair

    if args.pred.is_dir():
        from text2asl.gloss_to_pose.lexicon import Lexicon

        if not (args.ref / "index.csv").is_file():
            raise Text2ASLError(f"--ref {args.ref} is not a lexicon folder (no index.csv); a folder of predictions needs one")
        results, missing = pair.compare_folder(args.pred, Lexicon(args.ref), args.align, args.size)
    else:
        results, missing = [pair.compare(pair.load_sign(args.pred, "--pred"), pair.load_sign(args.ref, "--ref", args.extract_ref),
                                         args.align, args.size)], []
    print(pair.table(results))
    for r in results:
        print(pair.pairing_text(r))
    if missing:
        print(f"text2asl evaluate: {args.ref} has no sign for {', '.join(missing)}; skipped", file=sys.stderr)
    if args.output is not None:
        paths = pair.write_outputs(results, args.output)
        print(f"text2asl evaluate: wrote {', '.join(str(p) for p in paths)}", file=sys.stderr)
    return 0


def _check(args: argparse.Namespace) -> None:
    if (args.pred is None) != (args.ref is None):
        raise Text2ASLError("--pred and --ref go together: give the generated sign and its reference")
    if args.pred is not None and (args.held_out is not None or args.diffusion_frames is not None or args.diffusion_base is not None):
        raise Text2ASLError("--pred/--ref compare files on their own; drop --held-out, --training and the --diffusion options")
    if args.pred is None and args.output is None:
        raise Text2ASLError("-o/--output is required to run the suites; give a folder for the results")
    if (args.held_out is None) != (args.training is None):
        raise Text2ASLError("--held-out and --training go together: give both lexicon folders")
    if args.diffusion_frames is not None and args.held_out is None:
        raise Text2ASLError("--diffusion-frames needs --held-out and --training (the references to score against)")
    if args.diffusion_lora is not None and args.diffusion_base is None:
        raise Text2ASLError("--diffusion-lora needs --diffusion-base, the model the LoRA was trained on")
    if args.diffusion_frames is not None and not args.diffusion_frames.is_dir():
        raise Text2ASLError(f"--diffusion-frames {args.diffusion_frames} is not a folder of videos")
    if args.output is not None and args.output.exists() and not args.output.is_dir():
        raise Text2ASLError(f"--output {args.output} is a file; give a folder")

