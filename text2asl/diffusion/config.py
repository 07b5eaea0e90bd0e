"""Settings of both trainers (LoRA on a Stable Diffusion base, pre-training the toy base) and of generation: dataclasses, named presets.

Every numeric setting of either training dataclass has its valid range in one table (RANGES), every
choice its values in CHOICES; both dataclasses check themselves against them, and the two
commands derive their options from them (`text2asl.commands.settings.add_settings`). GenerationConfig's
ranges (GENERATION_RANGES) reuse RANGES' entries where a setting is the same. The tables live in
`text2asl.diffusion.ranges`, which the translate command reads without importing these dataclasses.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from text2asl.diffusion.ranges import CHOICES, GENERATION_RANGES, OPTIONAL, RANGES, flag
from text2asl.errors import Text2ASLError

# The keyframes' view (x0, y0, x1, y1, shoulder units, y down; RenderConfig.view): the signing space, head
# to waist and both elbows, not the whole body the video shows. Measured on the asl-app keyframes: hands
# within x -0.88..0.75 and y -0.83..1.27 (1st-99th percentile; HELLO's fingertips reach -1.23), elbows
# x -1.17..0.96, the head's top at -1.15. A side of 2.6 against the video's 4.8 draws the hands 1.85x as
# large on the same 64² (issue 18: at the video's framing a hand was a few pixels).
KEYFRAME_VIEW = (-1.3, -1.25, 1.3, 1.35)

SD_V1_4 = "CompVis/stable-diffusion-v1-4"
TINY_ASL = "tiny-asl"  # the pre-trained toy base shipped inside the package (text2asl/diffusion/tiny_asl)

# Glosses of the MIT asl-app lexicon that the shipped tiny-asl base never sees in training, so a LoRA
# on them shows the base learning new signs. Emotions, family, time and question words: signs
# made with different hands, places and movements, none of them a fingerspelled letter or number.
HELD_OUT_GLOSSES = ("ANGRY", "FAMILY", "HAPPY", "HUNGRY", "MOTHER", "SLEEP", "SORRY", "THIRSTY", "TIRED",
                    "WHERE", "YESTERDAY", "FRIEND")


@dataclass(frozen=True)
class TinyArchitecture:
    """Sizes of the toy model (the default is the shipped tiny-asl base). The VAE downsamples 4x, SD v1-4's 8x.

    Why 4x: 64² images become 16² latents, in which a hand (~8 px) is still two latent cells; an
    8x VAE would leave one. The UNet has cross-attention at every level but the lowest, like
    SD v1-4, so the gloss token's attention map is 16² and can land on the hands.
    `max_length` pads prompts to 16 tokens instead of CLIP's 77: captions are ~11 tokens, and 66
    padding tokens would take most of every cross-attention softmax from the gloss and phase words.
    """

    unet_channels: tuple[int, ...] = (32, 64, 64)
    attention_top: bool = True  # cross-attention also at the full latent resolution
    layers_per_block: int = 1
    attention_head_dim: int = 8
    cross_attention_dim: int = 64
    vae_channels: tuple[int, ...] = (16, 32, 64)  # 16 channels at 64²: line drawings need few, and that level costs most
    latent_channels: int = 4
    text_layers: int = 2
    text_heads: int = 4
    max_length: int = 16
    norm_groups: int = 16


@dataclass
class LoraTrainingConfig:
    """Everything `train-lora` can change; the CLI exposes every field as `--field-name`.

    The `sd-v1-4` preset holds the course's settings (lr 1e-4, batch 8, 10 epochs, AdamW, rank 4,
    fp16 mixed precision). Mixed precision only applies on a GPU: on a CPU everything runs in fp32.
    LoRA parameters are always kept in fp32, also when the frozen base runs in fp16.
    """

    base_model: str = field(default=SD_V1_4, metadata={"help": "hub id, local diffusers folder, or 'tiny-asl' (the shipped toy base)"})
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
    token_learning_rate: float | None = field(default=None, metadata={
        "help": "also train the input embeddings of the dataset's gloss words at this lr (pivotal tuning: LoRA + "
                "textual inversion, for words the base never learnt); off when unset or 0"})
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

    def __post_init__(self) -> None:
        self.validation_prompts = tuple(self.validation_prompts)
        check_settings(self)
        tiny = self.base_model == TINY_ASL
        multiple = tiny_downsampling() if tiny else VAE_FACTOR
        if self.resolution % multiple:
            which = "the tiny-asl model" if tiny else "Stable Diffusion's VAE"
            raise Text2ASLError(f"--resolution {self.resolution} does not fit {which}; give a multiple of {multiple}, "
                                f"e.g. {max(multiple, self.resolution // multiple * multiple)}")

    @property
    def alpha(self) -> int:
        return self.lora_alpha if self.lora_alpha is not None else self.rank

    def replace(self, **changes) -> "LoraTrainingConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


VAE_FACTOR = 8  # Stable Diffusion's VAE: 512² images -> 64² latents


def check_settings(settings, optional: set[str] = OPTIONAL, ranges: dict | None = None, name_of=None) -> None:
    """Refuse, in one sentence naming the option, any field of `settings` outside RANGES or CHOICES (None: only `optional` ones).

    `ranges` (default RANGES) and `name_of` (default `flag`: the CLI option) serve GenerationConfig too.
    """
    ranges, name_of = ranges or RANGES, name_of or flag
    for name, (kind, lo, hi, lo_open) in ranges.items():
        if not hasattr(settings, name):
            continue
        value = getattr(settings, name)
        if value is None and name in optional:
            continue
        number = isinstance(value, int if kind is int else (int, float)) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or value < lo or (lo_open and value == lo) or value > hi:
            raise Text2ASLError(f"{name_of(name)} must be {'an integer' if kind is int else 'a number'} in "
                                f"{'(' if lo_open else '['}{lo:g}, {hi:g}], got {value!r}")
    for name, allowed in CHOICES.items():
        if hasattr(settings, name) and getattr(settings, name) not in allowed:
            raise Text2ASLError(f"{flag(name)} must be one of {', '.join(allowed)}, got {getattr(settings, name)!r}")


def tiny_downsampling() -> int:
    """Pixels per latent cell times the UNet's downsampling: the tiny preset's resolution must be a multiple of it."""
    
    arch = TinyArchitecture()
    return 2 ** (len(arch.vae_channels) - 1) * 2 ** (len(arch.unet_channels) - 1)


PRESETS: dict[str, LoraTrainingConfig] = {
    # The course's run: SD v1-4 at 512², pure LoRA on the UNet attention projections.
    "sd-v1-4": LoraTrainingConfig(),
    # LoRA on the shipped tiny-asl base (64² images) on 2 CPU cores: a few minutes per run. A higher
    # lr than the course's because the model is small and the budget is minutes, not hours; guidance 3,
    # not SD's 7.5, because a toy base's conditional/unconditional gap is noisy and 7.5 amplifies it
    # into smeared colour blobs; pivotal tuning and min-SNR 5 (the base's own weighting). The runs that
    # chose these values: benchmarks/README.md, "Why the tiny-asl LoRA preset".
    TINY_ASL: LoraTrainingConfig(
        base_model=TINY_ASL,
        resolution=64,
        train_batch_size=8,
        num_train_epochs=10,
        learning_rate=5e-3,
        rank=8,
        mixed_precision="no",
        checkpointing_steps=100,
        validation_inference_steps=20,
        guidance_scale=3.0,
        lr_scheduler="constant_with_warmup",
        lr_warmup_steps=20,
        snr_gamma=5.0,
        token_learning_rate=5e-3,
    ),
}
# Notebooks' SMOKE mode and tests: a LoRA on tiny-asl in well under a minute on 2 CPU cores.
PRESETS["smoke"] = PRESETS[TINY_ASL].replace(max_train_steps=30, checkpointing_steps=10, validation_inference_steps=10)


def get_preset(name: str, **overrides) -> LoraTrainingConfig:
    """The named preset with `overrides` applied (None values are ignored)."""
    if name not in PRESETS:
        raise Text2ASLError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name].replace(**{k: v for k, v in overrides.items() if v is not None})


def preset_for(base_model: str) -> str:
    """The preset whose defaults fit `base_model`: 'tiny-asl' for the shipped toy base, 'sd-v1-4' otherwise."""
    return TINY_ASL if base_model == TINY_ASL else "sd-v1-4"


@dataclass(frozen=True)
class BaseTrainingConfig:
    """Everything `train-base` can change to pre-train a toy base from scratch; the CLI exposes every field but `arch`.

    Two stages, as in latent diffusion: the VAE learns to reconstruct the keyframes (pixel MSE + a
    small KL term), then the UNet and the text encoder learn to denoise its latents together. The
    text encoder trains too because a random CLIP encoder barely separates the prompts (their
    embeddings differ by ~10%), and a UNet conditioned on them draws one skeleton for every prompt.
    """

    resolution: int = field(default=64, metadata={"help": "keyframe size in pixels (square)"})
    n_phases: int = field(default=4, metadata={"help": "keyframes per sign, captioned 'asl skeleton, BOOK, phase 2 of 4'"})
    arch: TinyArchitecture = TinyArchitecture()  # preset-only: the model's sizes
    train_batch_size: int = field(default=8, metadata={"help": "images per UNet step per process"})
    vae_steps: int = field(default=300, metadata={"help": "steps of the VAE stage (a rerun reuses a trained VAE)"})
    vae_batch_size: int = field(default=8, metadata={"help": "images per VAE step"})
    vae_learning_rate: float = field(default=2e-3, metadata={"help": "AdamW learning rate of the VAE stage"})
    kl_weight: float = field(default=1e-6, metadata={
        "help": "weight of the VAE's KL term (latent diffusion's: reconstructions stay sharp, latents bounded)"})
    learning_rate: float = field(default=2e-3, metadata={"help": "peak AdamW learning rate of the UNet stage"})
    lr_scheduler: str = field(default="constant_with_warmup", metadata={
        "help": "diffusers learning-rate schedule of the UNet stage; cosine anneals to 0 at --max-train-steps"})
    lr_warmup_steps: int = field(default=100, metadata={"help": "linear warm-up steps of the scheduler"})
    adam_weight_decay: float = field(default=1e-2, metadata={"help": "AdamW weight decay of the UNet stage"})
    max_grad_norm: float = field(default=1.0, metadata={"help": "gradient clipping norm"})
    max_train_steps: int = field(default=200_000, metadata={"help": "UNet steps (in practice --max-minutes ends the run)"})
    caption_dropout: float = field(default=0.1, metadata={
        "help": "share of empty captions (SD v1's 10%%: classifier-free guidance needs an unconditional branch)"})
    snr_gamma: float | None = field(default=5.0, metadata={
        "help": "min-SNR weighting gamma (Hang et al. 2023: several times faster from scratch)"})
    checkpointing_steps: int = field(default=250, metadata={"help": "save a resumable checkpoint every N steps"})
    checkpoints_total_limit: int | None = field(default=2, metadata={"help": "keep only the newest N checkpoints"})
    held_out: tuple[str, ...] = field(default=HELD_OUT_GLOSSES, metadata={
        "help": "glosses of the lexicon never trained on (their tokens exist, untrained)"})
    guidance_scale: float = field(default=3.0, metadata={
        "help": "guidance recorded for generation (SD's 7.5 smears an undertrained toy's colours into blobs)"})
    grounding_weight: float = field(default=0.0, metadata={
        "help": "weight of the loss that pulls the gloss word's cross-attention onto the hands"})
    seed: int = field(default=0, metadata={"help": "seeds weights, data order and noise"})
    max_minutes: float | None = field(default=None, metadata={
        "help": "wall-clock budget of the UNet stage, all runs into the folder together; rerunning continues"})

    def __post_init__(self) -> None:
        object.__setattr__(self, "held_out", tuple(self.held_out))
        check_settings(self, OPTIONAL - {"max_train_steps"})  # the UNet stage needs a step count

    def replace(self, **changes) -> "BaseTrainingConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


BASE_PRESETS: dict[str, BaseTrainingConfig] = {
    # The shipped base (text2asl/diffusion/tiny_asl): 64² keyframes, 16² latents, ~2.5M parameters.
    TINY_ASL: BaseTrainingConfig(),
    # Seconds, not minutes: tests and notebooks' SMOKE mode exercise every step of pre-training.
    "smoke": BaseTrainingConfig(
        resolution=32, n_phases=2, train_batch_size=4, vae_steps=5, vae_batch_size=4, lr_warmup_steps=2, checkpointing_steps=5,
        grounding_weight=0.1,
        arch=TinyArchitecture(unet_channels=(16, 32), vae_channels=(16, 32, 32), cross_attention_dim=32,
                              text_layers=1, norm_groups=8),
    ),
}


@dataclass(frozen=True)
class GenerationConfig:
    """How the diffusion renderer draws: sampler steps, guidance, noise seed, keyframes per sign, the output video.

    The defaults are SD v1-4's (guidance 7.5, 25 DPM-Solver steps). A model's own settings are in its
    record (train_base.json of a base made by train-base, training_info.json of a LoRA run): get them
    with `text2asl.diffusion.generate.generation_config(base_model, lora_dir)`, which fills this class.
    """

    guidance_scale: float = 7.5  # classifier-free guidance
    num_inference_steps: int = 25  # DPM-Solver++ denoising steps per keyframe
    seed: int = 0  # every keyframe of a sign starts from the same noise of this seed
    n_phases: int = 8  # keyframes per sign, as the model's captions count them ("phase 3 of 8")
    resolution: int | None = None  # keyframe size the model draws; None: its UNet's sample size x the VAE's factor
    batch_size: int = 8  # images per UNet call
    lora_scale: float = 1.0  # strength of the LoRA update
    fuse: bool = False  # merge the LoRA into the UNet weights (faster, same result)
    fps: float = 25.0  # the output video's frame rate
    size: int = 512  # the output video's square frame size in pixels
    seconds_per_sign: float | None = None  # None: each sign lasts as long as its recordings did on average

    def __post_init__(self) -> None:
        check_settings(self, {"resolution", "seconds_per_sign"}, GENERATION_RANGES, lambda name: f"generation setting {name}")

    def replace(self, **changes) -> "GenerationConfig":
        """A copy with `changes` applied (None values are ignored: 'not given' keeps the setting)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
