"""`text2asl train-base`: pre-train the toy Stable Diffusion base (tiny-asl) from scratch on a lexicon's keyframes."""
from __future__ import annotations

import argparse

from text2asl.diffusion.config import BASE_PRESETS, TINY_ASL
from text2asl.options import number

_MINUTES = number(float, 0, 24 * 60, lo_open=True)
_STEPS = number(int, 1, 10_000_000)
_SEED = number(int, 0, 2**32 - 1)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lexicon", required=True, metavar="DIR",
                        help="lexicon folder (index.csv + .pose files), e.g. ../shared/data/asl-app-lexicon")
    parser.add_argument("-o", "--output", required=True, metavar="DIR",
                        help="run folder: dataset, checkpoints, loss.csv and the finished base in DIR/model")
    parser.add_argument("--minutes", type=_MINUTES, default=None,
                        help=f"wall-clock budget of the UNet stage, all runs into DIR together, in {_MINUTES.range_text}")
    parser.add_argument("--seed", type=_SEED, default=0, help=f"seeds weights, data order and noise, in {_SEED.range_text}")
    parser.add_argument("--max-train-steps", type=_STEPS, default=None,
                        help=f"UNet steps (default: the preset's, in practice --minutes ends the run), in {_STEPS.range_text}")
    parser.add_argument("--preset", choices=sorted(BASE_PRESETS), default=TINY_ASL,
                        help="model size and training settings: tiny-asl (the shipped base) or smoke (seconds, for tests)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from text2asl.diffusion.base_train import train_base

    result = train_base(args.lexicon, args.output, BASE_PRESETS[args.preset], minutes=args.minutes, seed=args.seed,
                        max_train_steps=args.max_train_steps, progress=not args.quiet)
    how = "stopped by --minutes" if result.stopped == "time budget" else "done"
    loss = "no step in this run" if result.last_loss is None else f"last loss {result.last_loss:.4f}"
    print(f"{result.model_dir}: {how} at step {result.global_step} after {result.elapsed_s / 60:.1f} min, "
          f"{loss}; use it with --base-model {result.model_dir}")
    return 0
