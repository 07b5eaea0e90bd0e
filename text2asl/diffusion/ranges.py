"""The valid values of every diffusion setting (training, datasets, generation): plain tables, cheap to import.

The config dataclasses (`text2asl.diffusion.config`) check themselves against these tables and the
commands build their options from them; `translate` reads GENERATION_RANGES at every start, so this
module imports nothing but the standard library.
"""
from __future__ import annotations

# Dataset settings (make-dataset, GenerationConfig): keyframe size, keyframes per sign, line width.
RESOLUTION_RANGE = (16, 2048)  # pixels; 2048² RGB is 12 MB a keyframe
PHASES_RANGE = (1, 64)
THICKNESS_RANGE = (1, 64)

# The valid values of every numeric setting of both configs: (type, low, high, low excluded). The CLI's
# parser and the config dataclasses themselves check against this one table, so a library caller gets
# the same sentence.
RANGES: dict[str, tuple[type, float, float, bool]] = {
    "resolution": (int, *RESOLUTION_RANGE, False),
    "train_batch_size": (int, 1, 4096, False),
    "num_train_epochs": (int, 1, 100_000, False),
    "max_train_steps": (int, 1, 10_000_000, False),
    "gradient_accumulation_steps": (int, 1, 1024, False),
    "learning_rate": (float, 0.0, 1.0, True),
    "lr_warmup_steps": (int, 0, 10_000_000, False),
    "adam_beta1": (float, 0.0, 0.9999, False),
    "adam_beta2": (float, 0.0, 0.9999999, False),
    "adam_weight_decay": (float, 0.0, 10.0, False),
    "adam_epsilon": (float, 0.0, 1.0, True),
    "max_grad_norm": (float, 0.0, 1e6, True),
    "rank": (int, 1, 1024, False),
    "lora_alpha": (int, 1, 65_536, False),
    "snr_gamma": (float, 0.0, 1000.0, True),
    "token_learning_rate": (float, 0.0, 1.0, False),
    "seed": (int, 0, 2**32 - 1, False),
    "checkpointing_steps": (int, 1, 10_000_000, False),
    "checkpoints_total_limit": (int, 1, 1_000_000, False),
    "validation_epochs": (int, 0, 1_000_000, False),
    "validation_inference_steps": (int, 1, 1000, False),
    "guidance_scale": (float, 0.0, 100.0, False),
    "max_minutes": (float, 0.0, 1e6, False),
    # train-base only
    "n_phases": (int, 1, 64, False),
    "vae_steps": (int, 0, 10_000_000, False),
    "vae_batch_size": (int, 1, 4096, False),
    "vae_learning_rate": (float, 0.0, 1.0, True),
    "kl_weight": (float, 0.0, 1.0, False),
    "caption_dropout": (float, 0.0, 1.0, False),
    "grounding_weight": (float, 0.0, 100.0, False),
}
OPTIONAL = {"max_train_steps", "lora_alpha", "snr_gamma", "token_learning_rate", "checkpoints_total_limit", "max_minutes"}
LR_SCHEDULERS = ("constant", "constant_with_warmup", "linear", "cosine", "cosine_with_restarts", "polynomial")
CHOICES: dict[str, tuple[str, ...]] = {"lr_scheduler": LR_SCHEDULERS, "mixed_precision": ("no", "fp16", "bf16")}

# The valid values of each numeric generation setting, as RANGES gives them: (type, low, high, low excluded).
GENERATION_RANGES: dict[str, tuple[type, float, float, bool]] = {
    "guidance_scale": RANGES["guidance_scale"],
    "num_inference_steps": RANGES["validation_inference_steps"],
    "seed": RANGES["seed"],
    "n_phases": (int, *PHASES_RANGE, False),
    "resolution": RANGES["resolution"],
    "batch_size": (int, 1, 4096, False),
    "lora_scale": (float, -10.0, 10.0, False),
    "fps": (float, 0.0, 120.0, True),
    "size": (int, 16, 4096, False),
    "seconds_per_sign": (float, 0.0, 3600.0, True),
}


def flag(name: str) -> str:
    """The CLI option of setting `name`: learning_rate -> --learning-rate."""
    return "--" + name.replace("_", "-")


def range_text(name: str) -> str:
    """'[1, 1024]' or '(0, 1]': the valid values of setting `name`, as the CLI's help and errors give them."""
    _, lo, hi, lo_open = RANGES[name]
    return f"{'(' if lo_open else '['}{lo:g}, {hi:g}]"
