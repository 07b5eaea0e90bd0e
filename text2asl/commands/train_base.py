"""`text2asl train-base`: pre-train the toy Stable Diffusion base (tiny-asl) from scratch on a lexicon's keyframes."""
from __future__ import annotations

import argparse

from text2asl.diffusion.config import BASE_PRESETS, LR_SCHEDULERS, TINY_ASL
from text2asl.options import number

_MINUTES = number(float, 0, 24 * 60, lo_open=True)
_STEPS = number(int, 1, 10_000_000)
_SEED = number(int, 0, 2**32 - 1)
_WEIGHT = number(float, 0, 100)
_LR = number(float, 0, 1, lo_open=True)


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
    parser.add_argument("--init-from", metavar="MODEL", default=None,
                        help="start from an earlier base (a train-base model folder, or tiny-asl) instead of random "
                             "weights; its VAE and tokenizer are kept")
    parser.add_argument("--grounding-weight", type=_WEIGHT, default=None, metavar="W",
                        help="weight of the loss that pulls the gloss word's cross-attention onto the hands "
                             f"(default: the preset's), in {_WEIGHT.range_text}")
    parser.add_argument("--learning-rate", type=_LR, default=None, metavar="LR",
                        help=f"peak learning rate of the UNet stage (default: the preset's), in {_LR.range_text}")
    parser.add_argument("--lr-scheduler", choices=LR_SCHEDULERS, default=None,
                        help="diffusers learning-rate schedule of the UNet stage (default: the preset's); "
                             "cosine anneals to 0 at --max-train-steps")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from text2asl.diffusion.base_train import train_base

    changes = {"grounding_weight": args.grounding_weight, "learning_rate": args.learning_rate,
               "lr_scheduler": args.lr_scheduler}
    config = BASE_PRESETS[args.preset].replace(**{k: v for k, v in changes.items() if v is not None})
    result = train_base(args.lexicon, args.output, config, minutes=args.minutes, seed=args.seed,
                        max_train_steps=args.max_train_steps, progress=not args.quiet, init_from=args.init_from)
    how = "stopped by --minutes" if result.stopped == "time budget" else "done"
    loss = "no step in this run" if result.last_loss is None else f"last loss {result.last_loss:.4f}"
    print(f"{result.model_dir}: {how} at step {result.global_step} after {result.elapsed_s / 60:.1f} min, "
          f"{loss}; use it with --base-model {result.model_dir}")
    return 0
