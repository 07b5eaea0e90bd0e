"""Pre-training a toy Stable Diffusion base from scratch on a lexicon's skeleton keyframes (`text2asl train-base`).

SD v1-4 arrives with a VAE that reconstructs images and a UNet that denoises; LoRA then only nudges
it towards skeletons. A toy base must learn both first, so this trains, on the keyframes of every
lexicon sign except the held-out ones (config.HELD_OUT_GLOSSES):

1. the VAE, to reconstruct the keyframes (pixel MSE + a small KL term, as in latent diffusion);
2. the UNet together with the text encoder, with LoRA training's loss (objective.py), 10% empty
   captions for classifier-free guidance, diffusers' `get_scheduler` and gradient clipping, plus
   `grounding_weight` x the grounding loss that pulls the gloss word's cross-attention onto the
   keyframe's hand boxes (objective.grounding_loss).

`init_from` starts from an earlier base (its VAE, UNet, text encoder and tokenizer) instead of
random weights: a base can be trained further, e.g. with grounding, without repeating its first run.

Outputs in OUT/:
    dataset/            the training keyframes (imagefolder layout, see dataset.py)
    stage-vae/          the trained VAE (written once; a rerun reuses it)
    checkpoint-N/       resumable UNet + text-encoder checkpoints (see checkpoint.py)
    loss.csv            step, epoch, loss (denoising), lr, elapsed_s, grounding
    model/              the base as a diffusers folder (fp16 safetensors), for `--base-model OUT/model`

Running the same command again after a kill continues from the newest checkpoint. `--minutes`
bounds the wall time of the UNet stage, all runs together; the VAE stage is a fixed number of steps. The tokenizer knows the words of every lexicon caption, the
held-out glosses included (their embeddings stay untrained), so a LoRA can learn them later.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from text2asl.diffusion import checkpoint as ckpt
from text2asl.diffusion.config import BaseConfig
from text2asl.diffusion.caption import caption, gloss_token
from text2asl.diffusion.dataset import SkeletonImageDataset, make_dataset, read_info, tokenize
from text2asl.diffusion.model import BASE_INFO
from text2asl.diffusion.objective import diffusion_loss, sample_latents, step_generator
from text2asl.errors import Text2ASLError

MODEL_SUBDIR = "model"
VAE_SUBDIR = "stage-vae"
DATASET_SUBDIR = "dataset"
VAE_STREAM, UNET_STREAM = 2, 3  # noise streams distinct from LoRA training's (stream 0)


@dataclass
class BaseResult:
    """How a call to `train_base` ended."""

    model_dir: Path
    global_step: int
    stopped: str  # "done" or "time budget"
    last_loss: float | None
    elapsed_s: float


def vocabulary_captions(glosses, n_phases: int) -> list[str]:
    """Every caption the tokenizer must know: each gloss at each phase."""
    return [caption(g, phase, n_phases) for g in glosses for phase in range(1, n_phases + 1)]


def training_glosses(lexicon, held_out) -> tuple[list[str], list[str]]:
    """(glosses to train on, all glosses) of `lexicon` in its order; refuses held-out glosses it lacks."""
    all_glosses = list(dict.fromkeys(gloss_token(e.gloss) for e in lexicon.entries))
    held = {gloss_token(g) for g in held_out}
    missing = sorted(held - set(all_glosses))
    if missing:
        raise Text2ASLError(f"lexicon {lexicon.path} has no sign for the held-out glosses {', '.join(missing)}; "
                            "train on the asl-app lexicon or change the held-out list")
    return [g for g in all_glosses if g not in held], all_glosses


def train_vae(vae, pixels, config: BaseConfig, seed: int, progress: bool = True) -> list[float]:
    """Train `vae` in place to reconstruct `pixels` ((N, 3, R, R) float in [-1, 1]); returns the per-step losses."""
    import torch
    from tqdm.auto import tqdm

    vae.train().requires_grad_(True)
    opt = torch.optim.AdamW(vae.parameters(), lr=config.vae_learning_rate, weight_decay=0.0)
    losses = []
    for step in tqdm(range(config.vae_steps), desc="train-base: VAE", unit="step", disable=not progress):
        gen = step_generator(seed, step, stream=VAE_STREAM)
        x = pixels[torch.randperm(len(pixels), generator=gen)[: config.vae_batch_size]]
        dist = vae.encode(x).latent_dist
        recon = vae.decode(sample_latents(dist.mean, dist.std, 1.0, gen)).sample
        loss = torch.nn.functional.mse_loss(recon, x) + config.kl_weight * dist.kl().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    vae.eval().requires_grad_(False)
    return losses


def latent_scaling_factor(latent_means) -> float:
    """1 / std of the latents: SD's scaling factor (0.18215) was chosen the same way."""
    return 1.0 / max(latent_means.std().item(), 1e-6)


def halve_safetensors(path: Path) -> None:
    """Rewrite a safetensors file with its float32 tensors as float16 (the shipped base's size halves).

    `from_pretrained(..., dtype=torch.float32)` casts them back on load; fp16 keeps 3 significant
    digits, far more than a toy base's weights need.
    """
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(path), "pt") as fh:
        metadata = fh.metadata()
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    tensors = {k: v.half() if v.dtype == torch.float32 else v for k, v in tensors.items()}
    save_file(tensors, str(path), metadata=metadata)


def _provenance(base_model: str) -> dict:
    """How the base `base_model` was made (command, seed, steps, its own init), from its train_base.json."""
    from text2asl.diffusion.model import base_info

    info = base_info(base_model)
    return {k: info.get(k) for k in ("command", "seed", "global_step", "elapsed_s", "init_from")}


def _save_atomically(save, folder: Path) -> None:
    """Call `save(tmp)` and rename tmp to `folder`, so a kill never leaves a half-written folder."""
    tmp = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    save(tmp)
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)


def _initial_pipeline(init_from: str, captions: list[str], resolution: int):
    """The pipeline of an earlier base (fp32, CPU), refused if its resolution or vocabulary does not fit."""
    import torch

    from text2asl.diffusion.model import load_pipeline

    pipe = load_pipeline(init_from, dtype=torch.float32, device="cpu")
    size = pipe.unet.config.sample_size * pipe.vae_scale_factor
    if size != resolution:
        raise Text2ASLError(f"--init-from {init_from} draws {size}² images but the preset trains at {resolution}²; "
                            "choose the preset it was trained with")
    unk = pipe.tokenizer.unk_token_id
    unknown = [c for c, ids in zip(captions, tokenize(pipe.tokenizer, captions)) if unk is not None and unk in ids.tolist()]
    if unknown:
        raise Text2ASLError(f"--init-from {init_from} has no token for some words of {unknown[0]!r}; "
                            "start from a base trained on this lexicon, or from scratch")
    return pipe


def train_base(lexicon_dir: str | Path, output_dir: str | Path, config: BaseConfig, minutes: float | None = None,
               seed: int = 0, max_train_steps: int | None = None, progress: bool = True,
               init_from: str | None = None) -> BaseResult:
    """Pre-train a tiny base on the keyframes of `lexicon_dir` (minus the held-out glosses); see the module doc.

    Stops after `max_train_steps` UNet steps or `minutes` of UNet-stage wall time (all runs into
    `output_dir` together), whichever comes first, and always writes OUT/model. `init_from`: a base
    model folder (or "tiny-asl") to start from instead of random weights; its VAE is kept.
    """
    import torch
    from diffusers import DDPMScheduler
    from diffusers.optimization import get_scheduler
    from tqdm.auto import tqdm

    from text2asl.diffusion.model import check_base_model, hide_library_progress_bars, resolve_base_model
    from text2asl.diffusion.objective import grounding_loss, record_cross_attention
    from text2asl.gloss_to_pose.sublexicon import sub_lexicon
    from text2asl.diffusion.tiny import build_tiny_pipeline
    from text2asl.diffusion.train import _LossLog
    from text2asl.gloss_to_pose.lexicon import Lexicon

    if init_from is not None:
        check_base_model(resolve_base_model(init_from))
    if not progress:
        hide_library_progress_bars()
    out = Path(output_dir)
    lexicon = lexicon_dir if isinstance(lexicon_dir, Lexicon) else Lexicon(lexicon_dir)
    train_glosses, all_glosses = training_glosses(lexicon, config.held_out)
    captions = vocabulary_captions(all_glosses, config.n_phases)
    # a starting base that is missing, damaged or does not fit fails before any keyframe is drawn
    pipe = None if init_from is None else _initial_pipeline(init_from, captions, config.resolution)
    steps_total = max_train_steps or config.max_train_steps
    out.mkdir(parents=True, exist_ok=True)
    data_dir = out / DATASET_SUBDIR
    make_dataset([sub_lexicon(lexicon, train_glosses, out / "lexicon")], data_dir, resolution=config.resolution,
                 n_phases=config.n_phases, progress=progress)

    vae_dir = out / VAE_SUBDIR
    if pipe is None:
        pipe = build_tiny_pipeline(captions, config.resolution, seed, config.arch)
    elif not (vae_dir / "config.json").is_file():
        _save_atomically(pipe.vae.save_pretrained, vae_dir)
    dataset = SkeletonImageDataset(data_dir, pipe.tokenizer, config.resolution)
    pixels = torch.stack([dataset[i]["pixel_values"] for i in range(len(dataset))])
    gloss_tokens = dataset.gloss_token_mask(pipe.tokenizer)
    hand_cells = dataset.hand_masks(pipe.unet.config.sample_size)
    if (vae_dir / "config.json").is_file():
        from diffusers import AutoencoderKL

        pipe.vae = AutoencoderKL.from_pretrained(vae_dir).requires_grad_(False).eval()
    else:
        vae_losses = train_vae(pipe.vae, pixels, config, seed, progress)
        with torch.no_grad():
            means = torch.cat([pipe.vae.encode(chunk).latent_dist.mean for chunk in pixels.split(64)])
        pipe.vae.register_to_config(scaling_factor=latent_scaling_factor(means))
        _save_atomically(pipe.vae.save_pretrained, vae_dir)
        (vae_dir / "loss.csv").write_text("step,loss\n" + "".join(f"{i + 1},{v:.6f}\n" for i, v in enumerate(vae_losses)))
    with torch.no_grad():
        dists = [pipe.vae.encode(chunk).latent_dist for chunk in pixels.split(64)]
        mean, std = torch.cat([d.mean for d in dists]), torch.cat([d.std for d in dists])
    scale = pipe.vae.config.scaling_factor
    empty_ids = tokenize(pipe.tokenizer, [""])[0]
    noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)

    trainable = torch.nn.ModuleDict({"unet": pipe.unet, "text_encoder": pipe.text_encoder})
    trainable.train().requires_grad_(True)
    params = list(trainable.parameters())
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.adam_weight_decay)
    lr_scheduler = get_scheduler(config.lr_scheduler, optimizer=optimizer, num_warmup_steps=config.lr_warmup_steps,
                                 num_training_steps=steps_total)
    global_step, elapsed_before = 0, 0.0
    if ckpt.checkpoints(out):
        state = ckpt.load_checkpoint(ckpt.find_checkpoint(out, "latest"), trainable, optimizer, lr_scheduler)
        global_step, elapsed_before = state["step"], state["elapsed_s"]

    log = _LossLog(out / "loss.csv", global_step, extra=("grounding",))
    bar = tqdm(total=steps_total, initial=global_step, desc="train-base: UNet + text encoder", unit="step",
               disable=not progress)
    start, stopped, last_loss = time.monotonic(), "done", None

    def elapsed() -> float:
        return elapsed_before + time.monotonic() - start

    def save_checkpoint() -> None:
        ckpt.save_checkpoint(out, global_step, global_step * config.train_batch_size // len(dataset), trainable,
                             optimizer, lr_scheduler, None, config.checkpoints_total_limit,
                             extra={"elapsed_s": elapsed(), "seed": seed})

    try:
        while global_step < steps_total:
            if minutes is not None and elapsed() > 60 * minutes:
                stopped = "time budget"
                break
            gen = step_generator(seed, global_step, stream=UNET_STREAM)
            idx = torch.randperm(len(dataset), generator=gen)[: config.train_batch_size]
            ids = dataset.input_ids[idx].clone()
            dropped = torch.rand(len(idx), generator=gen) < config.caption_dropout
            ids[dropped] = empty_ids
            latents = sample_latents(mean[idx], std[idx], scale, gen)
            hidden = pipe.text_encoder(ids, return_dict=False)[0]
            with record_cross_attention(pipe.unet) if config.grounding_weight else contextlib.nullcontext() as record:
                loss = diffusion_loss(pipe.unet, noise_scheduler, latents, hidden, gen, config.snr_gamma)
            grounding = None
            if config.grounding_weight:
                grounding = grounding_loss(record, gloss_tokens[idx] * ~dropped[:, None], hand_cells[idx])
            last_loss = loss.item()
            if not math.isfinite(last_loss):
                raise Text2ASLError(f"base training loss became {last_loss} at step {global_step + 1}; "
                                    "lower the learning rate and rerun (it resumes from the newest checkpoint)")
            optimizer.zero_grad(set_to_none=True)
            (loss if grounding is None else loss + config.grounding_weight * grounding).backward()
            torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
            optimizer.step()
            lr_scheduler.step()
            global_step += 1
            log.write(global_step, global_step * config.train_batch_size // len(dataset), last_loss,
                      lr_scheduler.get_last_lr()[0], elapsed() - elapsed_before,
                      grounding="" if grounding is None else f"{grounding.item():.6f}")
            bar.update(1)
            bar.set_postfix(loss=f"{last_loss:.4f}")
            if global_step % config.checkpointing_steps == 0:
                save_checkpoint()
        save_checkpoint()
    finally:
        bar.close()
        log.close()

    trainable.eval().requires_grad_(False)
    if last_loss is None and global_step:  # resumed at the last step: the loss of the run that took it
        rows = (out / "loss.csv").read_text().splitlines()[1:]
        last_loss = float(rows[-1].split(",")[2]) if rows else None
    model_dir = out / MODEL_SUBDIR
    info = {
        "command": "text2asl train-base",
        "lexicon": lexicon.name,
        "seed": seed,
        "init_from": None if init_from is None else {"model": str(init_from), **_provenance(init_from)},
        "global_step": global_step,
        "stopped": stopped,
        "elapsed_s": round(elapsed(), 1),
        "final_loss": last_loss,
        "held_out_glosses": [gloss_token(g) for g in config.held_out],
        "training_glosses": train_glosses,
        "glosses": read_info(data_dir).get("glosses", {}),  # instances and mean duration, as train-lora records them
        "guidance_scale": config.guidance_scale,
        "n_phases": config.n_phases,
        "resolution": config.resolution,
        "config": config.to_dict(),
    }

    def save_model(folder: Path) -> None:
        pipe.save_pretrained(folder, safe_serialization=True)
        for weights in folder.glob("*/*.safetensors"):
            halve_safetensors(weights)
        (folder / BASE_INFO).write_text(json.dumps(info, indent=1))

    _save_atomically(save_model, model_dir)
    return BaseResult(model_dir, global_step, stopped, last_loss, elapsed())
