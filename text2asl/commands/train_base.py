"""`text2asl train-base`: pre-train the toy Stable Diffusion base (tiny-asl) from scratch on a lexicon's keyframes."""
from __future__ import annotations

import argparse

from text2asl.diffusion.config import BASE_PRESETS, TINY_ASL, BaseTrainingConfig
from text2asl.commands.settings import add_settings, settings_from_args

# The model's sizes are a preset's, not an option.
_SPECIAL = {"arch"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lexicon", required=True, metavar="DIR",
                        help="lexicon folder (index.csv + .pose files), e.g. ../shared/data/asl-app-lexicon")
    parser.add_argument("-o", "--output", required=True, metavar="DIR",
                        help="run folder: dataset, checkpoints, loss.csv and the finished base in DIR/model")
    parser.add_argument("--preset", choices=sorted(BASE_PRESETS), default=TINY_ASL,
                        help="model size and training settings: tiny-asl (the shipped base) or smoke (seconds, for tests)")
    parser.add_argument("--init-from", metavar="MODEL", default=None,
                        help="start from an earlier base (a train-base model folder, or tiny-asl) instead of random "
                             "weights; its VAE and tokenizer are kept")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    add_settings(parser, BaseTrainingConfig, skip=_SPECIAL)


def config_from_args(args: argparse.Namespace) -> BaseTrainingConfig:
    """The preset with every flag the user gave applied."""
    return BASE_PRESETS[args.preset].replace(**settings_from_args(args, BaseTrainingConfig, skip=_SPECIAL))


def run(args: argparse.Namespace) -> int:
    from text2asl.diffusion.train_base import train_base

    result = train_base(args.lexicon, args.output, config_from_args(args), progress=not args.quiet,
                        init_from=args.init_from)
    how = "stopped by --max-minutes" if result.stopped == "time budget" else "done"
    loss = "no step in this run" if result.last_loss is None else f"last loss {result.last_loss:.4f}"
    print(f"{result.model_dir}: {how} at step {result.global_step} after {result.elapsed_s / 60:.1f} min, "
          f"{loss}; use it with --base-model {result.model_dir}")
    return 0
