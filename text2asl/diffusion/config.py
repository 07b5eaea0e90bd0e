"""Training settings for Stable Diffusion + LoRA on skeleton images: one dataclass, named presets."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from text2asl.errors import Text2ASLError

SD_V1_4 = "CompVis/stable-diffusion-v1-4"
TINY = "tiny"


@dataclass
class LoraConfig:
    """Everything `train-lora` can change; the CLI exposes every field as `--field-name`.

    The `sd-v1-4` preset holds the course's settings (lr 1e-4, batch 8, 10 epochs, AdamW, rank 4,
    fp16 mixed precision). Mixed precision only applies on a GPU: on a CPU everything runs in fp32.
    LoRA parameters are always kept in fp32, also when the frozen base runs in fp16.
    """

    base_model: str = field(default=SD_V1_4, metadata={"help": "hub id or local diffusers folder, or 'tiny'"})
    resolution: int = field(default=512, metadata={"help": "training image size in pixels (square)"})
    train_batch_size: int = field(default=8, metadata={"help": "images per step per device"})
    num_train_epochs: int = field(default=10, metadata={"help": "passes over the dataset"})
    max_train_steps: int | None = field(default=None, metadata={"help": "optimiser steps; overrides epochs"})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "micro-batches per optimiser step"})
    gradient_checkpointing: bool = field(default=False, metadata={"help": "trade compute for UNet activation memory"})
    learning_rate: float = field(default=1e-4, metadata={"help": "AdamW learning rate"})
    lr_scheduler: str = field(
        default="constant",
        metadata={"help": "constant, constant_with_warmup, linear, cosine, cosine_with_restarts, polynomial"},
    )
    lr_warmup_steps: int = field(default=0, metadata={"help": "linear warm-up steps of the scheduler"})
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_weight_decay: float = 1e-2
    adam_epsilon: float = 1e-8
    max_grad_norm: float = field(default=1.0, metadata={"help": "gradient clipping norm"})
    rank: int = field(default=4, metadata={"help": "LoRA rank"})
    lora_alpha: int | None = field(default=None, metadata={"help": "LoRA alpha; defaults to the rank"})
    snr_gamma: float | None = field(default=None, metadata={"help": "min-SNR weighting gamma (5.0 is usual); off when unset"})
    mixed_precision: str = field(default="fp16", metadata={"help": "no, fp16 or bf16 (GPU only; CPU runs fp32)"})
    seed: int = field(default=42, metadata={"help": "seeds LoRA init, data order, noise and timesteps"})
    checkpointing_steps: int = field(default=500, metadata={"help": "save a resumable checkpoint every N steps"})
    checkpoints_total_limit: int | None = field(default=3, metadata={"help": "keep only the newest N checkpoints"})
    validation_prompts: tuple[str, ...] = field(
        default=(), metadata={"help": "prompts drawn after each validation epoch (default: a few dataset captions)"}
    )
    validation_epochs: int = field(default=1, metadata={"help": "draw validation images every N epochs (0: never)"})
    validation_inference_steps: int = field(default=30, metadata={"help": "denoising steps for validation images"})
    guidance_scale: float = field(default=7.5, metadata={"help": "classifier-free guidance for validation images"})
    max_minutes: float | None = field(
        default=None, metadata={"help": "stop (with a checkpoint) after this many minutes; --resume latest continues"}
    )
    # The tiny preset's base is random: LoRA alone cannot turn a random UNet and a random VAE into a
    # skeleton generator, so before the LoRA stage the tiny base is trained on the same dataset
    # (VAE reconstruction, then the full UNet). Ignored for any other base model.
    base_vae_steps: int = field(default=0, metadata={"help": "tiny only: VAE reconstruction steps before LoRA"})
    base_unet_steps: int = field(default=0, metadata={"help": "tiny only: full-UNet steps before LoRA"})
    base_learning_rate: float = field(default=1e-3, metadata={"help": "tiny only: lr of the base pre-training"})
    base_max_minutes: float | None = field(default=None, metadata={"help": "tiny only: stop the full-UNet stage after this many minutes"})

    def __post_init__(self) -> None:
        self.validation_prompts = tuple(self.validation_prompts)
        positive = ("resolution", "train_batch_size", "gradient_accumulation_steps", "rank", "checkpointing_steps")
        for name in positive:
            if getattr(self, name) < 1:
                raise Text2ASLError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}.")
        if self.learning_rate <= 0:
            raise Text2ASLError(f"--learning-rate must be positive, got {self.learning_rate}.")
        if self.mixed_precision not in ("no", "fp16", "bf16"):
            raise Text2ASLError(f"--mixed-precision must be no, fp16 or bf16, got {self.mixed_precision!r}.")

    @property
    def alpha(self) -> int:
        return self.lora_alpha if self.lora_alpha is not None else self.rank

    @property
    def is_tiny(self) -> bool:
        return self.base_model == TINY

    def replace(self, **changes) -> "LoraConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


PRESETS: dict[str, LoraConfig] = {
    # The course's run: SD v1-4 at 512², pure LoRA on the UNet attention projections.
    "sd-v1-4": LoraConfig(),
    # Same architecture at toy size on 2 CPU cores: 64² images, a few minutes per stage.
    # A higher lr than the course because the model is small and the budget is minutes, not hours.
    # Base pre-training: 150 VAE steps already reconstruct the skeletons (SSIM ~0.95), and the
    # UNet + text encoder need thousands of steps before gloss conditioning appears (~1,000 steps:
    # one skeleton for every prompt), so the UNet stage gets the steps (0.1 s each on one thread).
    # Guidance 3, not SD's 7.5: an undertrained toy's conditional/unconditional gap is noisy, and
    # 7.5 amplifies it into smeared colour blobs.
    "tiny": LoraConfig(
        base_model=TINY,
        resolution=64,
        train_batch_size=8,
        num_train_epochs=10,
        learning_rate=1e-3,
        rank=8,
        mixed_precision="no",
        checkpointing_steps=100,
        validation_inference_steps=20,
        guidance_scale=3.0,
        base_vae_steps=150,
        base_unet_steps=4000,
        base_learning_rate=2e-3,
        lr_scheduler="constant_with_warmup",
        lr_warmup_steps=20,
    ),
}


def get_preset(name: str, **overrides) -> LoraConfig:
    """The named preset with `overrides` applied (None values are ignored)."""
    if name not in PRESETS:
        raise Text2ASLError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}.")
    return PRESETS[name].replace(**{k: v for k, v in overrides.items() if v is not None})


def preset_for(base_model: str) -> str:
    """The preset whose defaults fit `base_model`: 'tiny' for the toy model, 'sd-v1-4' otherwise."""
    return "tiny" if base_model == TINY else "sd-v1-4"
