"""`text2asl train-lora`: LoRA fine-tuning of Stable Diffusion on a skeleton dataset (also under `accelerate launch`)."""
from __future__ import annotations

import argparse

from text2asl.diffusion.config import PRESETS, LoraTrainingConfig, get_preset, preset_for
from text2asl.commands.settings import add_settings, settings_from_args

# Fields with their own flag (or set by another option) rather than the generic --field-name one.
_SPECIAL = {"base_model", "validation_prompts"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-model", default=None,
                        help="hub id or local diffusers folder (default CompVis/stable-diffusion-v1-4), or 'tiny-asl' (the shipped toy base)")
    parser.add_argument("--data", required=True, metavar="DIR", help="dataset folder made by `text2asl make-dataset`")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="run folder: LoRA weights, checkpoints, logs")
    parser.add_argument("--preset", choices=sorted(PRESETS), default=None,
                        help="default settings: 'tiny-asl' for --base-model tiny-asl, else 'sd-v1-4' (the course's settings); 'smoke' for a quick try")
    parser.add_argument("--resume", metavar="CHECKPOINT", default=None,
                        help="'latest' or a checkpoint-N folder: continue to the same total step count")
    parser.add_argument("--validation-prompt", action="append", dest="validation_prompts", metavar="TEXT",
                        help="prompt drawn after each validation epoch (repeatable)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_settings(parser, LoraTrainingConfig, skip=_SPECIAL)


def config_from_args(args: argparse.Namespace) -> LoraTrainingConfig:
    """The preset for the base model, with every flag the user gave applied."""
    base_model = args.base_model
    preset = args.preset or preset_for(base_model or "")
    overrides = settings_from_args(args, LoraTrainingConfig, skip=_SPECIAL)
    if base_model:
        overrides["base_model"] = base_model
    if args.validation_prompts:
        overrides["validation_prompts"] = tuple(args.validation_prompts)
    return get_preset(preset, **overrides)


def run(args: argparse.Namespace) -> int:
    from text2asl.diffusion.train_lora import train_lora
    config = config_from_args(args)
    result = train_lora(config, args.data, args.output, resume=args.resume, progress=not args.quiet)
    if result.stopped == "time budget":
        print(f"{result.output_dir}: stopped by --max-minutes at step {result.global_step}/{result.max_train_steps}; "
              "rerun with --resume latest to continue")
    else:
        loss = "no step in this run" if result.last_loss is None else f"last loss {result.last_loss:.4f}"
        print(f"{result.output_dir}: {result.global_step} steps, {loss}; "
              f"LoRA weights in {result.output_dir / 'pytorch_lora_weights.safetensors'}")
    return 0
