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

Running the same command again after a kill continues from the newest checkpoint. `--max-minutes`
bounds the wall time of the UNet stage, all runs together; the VAE stage is a fixed number of steps.
The tokenizer knows the words of every lexicon caption, the held-out glosses included (their
embeddings stay untrained), so a LoRA can learn them later.

`BaseTrainer` has the shape of train_lora.LoraTrainer: set-up in the constructor (data, VAE stage,
latent cache, optimiser), `train()` runs or resumes the UNet stage, `save_model()` writes OUT/model.
Under `accelerate launch` (on the CPU, gloo) the main process makes the dataset and the VAE, every process takes
every P-th sample of the step's global batch (P x `train_batch_size` samples) with the noise of its
slot (objective.sample_generators), and the main process alone writes checkpoints and the model.
"""
from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from text2asl.diffusion import checkpoint as ckpt
from text2asl.diffusion.config import BaseTrainingConfig
from text2asl.diffusion.caption import caption, gloss_token
from text2asl.diffusion.dataset import SkeletonImageDataset, make_dataset, read_info, tokenize
from text2asl.diffusion.model import BASE_INFO
from text2asl.diffusion.objective import diffusion_loss, sample_generators, sample_latents, step_generator
from text2asl.diffusion.runlog import LOSS_LOG, LossLog, any_process, save_folder_atomically
from text2asl.errors import Text2ASLError
from text2asl.io import make_folder, refuse_escaping_links

MODEL_SUBDIR = "model"
VAE_SUBDIR = "stage-vae"
DATASET_SUBDIR = "dataset"
VAE_STREAM, UNET_STREAM = 2, 3  # noise streams distinct from LoRA training's (stream 0)
VAE_LOSS_LOG = "loss.csv"  # in stage-vae/: step, loss


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


def train_vae(vae, pixels, config: BaseTrainingConfig, seed: int, progress: bool = True) -> list[float]:
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


class BaseTrainer:
    """One pre-training run: data, VAE stage, latent cache and optimiser in the constructor; `train()` runs or resumes it.

    Attributes after construction: `pipe` (the pipeline being trained, fp32), `dataset`, `unet` and
    `text_encoder` (prepared by accelerate), `optimizer`, `lr_scheduler`, `accelerator`.
    """

    def __init__(self, config: BaseTrainingConfig, lexicon_dir, output_dir: str | Path, progress: bool = True,
                 init_from: str | None = None):
        from accelerate import Accelerator

        from text2asl.diffusion.model import check_base_model, hide_library_progress_bars, resolve_base_model
        from text2asl.gloss_to_pose.lexicon import Lexicon

        if init_from is not None:
            check_base_model(resolve_base_model(init_from))
        if not progress:
            hide_library_progress_bars()
        self.config = c = config
        self.out = Path(output_dir)
        self.progress = progress
        self.init_from = init_from
        # The toy base trains on the CPU, as it always has (its resume tests compare weights bit for bit,
        # which GPU kernels do not promise); several processes use gloo.
        self.accelerator = acc = Accelerator(cpu=True)
        self.lexicon = lexicon_dir if isinstance(lexicon_dir, Lexicon) else Lexicon(lexicon_dir)
        self.train_glosses, all_glosses = training_glosses(self.lexicon, c.held_out)
        captions = vocabulary_captions(all_glosses, c.n_phases)
        # a starting base that is missing, damaged or does not fit fails before any keyframe is drawn
        pipe = None if init_from is None else _initial_pipeline(init_from, captions, c.resolution)
        self.pipe = pipe if pipe is not None else self._random_pipeline(captions)
        self.data_dir = self.out / DATASET_SUBDIR
        if acc.is_main_process:
            refuse_escaping_links(make_folder(self.out, "run folder"), "run folder")
            self._make_dataset()
            self._vae_stage(from_scratch=pipe is None)
        acc.wait_for_everyone()
        self._load_vae()
        self._cache()
        self._set_up_optimiser()

    # -- set-up ---------------------------------------------------------------------------------

    def _random_pipeline(self, captions: list[str]):
        from text2asl.diffusion.tiny import build_tiny_pipeline

        return build_tiny_pipeline(captions, self.config.resolution, self.config.seed, self.config.arch)

    def _make_dataset(self) -> None:
        """The training keyframes of every lexicon sign but the held-out ones, in OUT/dataset (main process)."""
        from text2asl.gloss_to_pose.sublexicon import sub_lexicon

        c = self.config
        make_dataset([sub_lexicon(self.lexicon, self.train_glosses, self.out / "lexicon")], self.data_dir,
                     resolution=c.resolution, n_phases=c.n_phases, progress=self.progress)

    def _vae_stage(self, from_scratch: bool) -> None:
        """Write OUT/stage-vae once (main process): trained here from scratch, or the starting base's VAE kept."""
        import torch

        vae_dir = self.out / VAE_SUBDIR
        if (vae_dir / "config.json").is_file():
            return
        vae = self.pipe.vae
        if from_scratch:
            pixels = self._pixels(SkeletonImageDataset(self.data_dir, self.pipe.tokenizer, self.config.resolution))
            losses = train_vae(vae, pixels, self.config, self.config.seed, self.progress)
            with torch.no_grad():
                means = torch.cat([vae.encode(chunk).latent_dist.mean for chunk in pixels.split(64)])
            vae.register_to_config(scaling_factor=latent_scaling_factor(means))
        save_folder_atomically(vae.save_pretrained, vae_dir)
        if from_scratch:
            (vae_dir / VAE_LOSS_LOG).write_text("step,loss\n" + "".join(f"{i + 1},{v:.6f}\n" for i, v in enumerate(losses)))

    def _load_vae(self) -> None:
        """Every process uses the VAE in OUT/stage-vae, as saved (fp32): the same weights on all of them."""
        from diffusers import AutoencoderKL

        self.pipe.vae = AutoencoderKL.from_pretrained(self.out / VAE_SUBDIR).requires_grad_(False).eval()

    @staticmethod
    def _pixels(dataset):
        import torch

        return torch.stack([dataset[i]["pixel_values"] for i in range(len(dataset))])

    def _cache(self) -> None:
        """The VAE posterior (mean, std) of every keyframe, the gloss-token masks and the hand cells: the UNet stage's inputs."""
        import torch

        pipe, device = self.pipe, self.accelerator.device
        self.dataset = dataset = SkeletonImageDataset(self.data_dir, pipe.tokenizer, self.config.resolution)
        pixels = self._pixels(dataset)
        with torch.no_grad():
            dists = [pipe.vae.encode(chunk).latent_dist for chunk in pixels.split(64)]
            self.mean = torch.cat([d.mean for d in dists]).to(device)
            self.std = torch.cat([d.std for d in dists]).to(device)
        self.scale = pipe.vae.config.scaling_factor
        self.input_ids = dataset.input_ids.to(device)
        self.gloss_tokens = dataset.gloss_token_mask(pipe.tokenizer).to(device)
        self.hand_cells = dataset.hand_masks(pipe.unet.config.sample_size).to(device)
        self.empty_ids = tokenize(pipe.tokenizer, [""])[0].to(device)

    def _set_up_optimiser(self) -> None:
        import torch
        from diffusers import DDPMScheduler
        from diffusers.optimization import get_scheduler

        c, acc, pipe = self.config, self.accelerator, self.pipe
        self.noise_scheduler = DDPMScheduler.from_config(pipe.scheduler.config)
        self.trainable = torch.nn.ModuleDict({"unet": pipe.unet, "text_encoder": pipe.text_encoder})
        self.trainable.train().requires_grad_(True)
        self.params = list(self.trainable.parameters())
        self.optimizer = torch.optim.AdamW(self.params, lr=c.learning_rate, weight_decay=c.adam_weight_decay)
        # not prepared: accelerate's scheduler wrapper would step once per process
        self.lr_scheduler = get_scheduler(c.lr_scheduler, optimizer=self.optimizer, num_warmup_steps=c.lr_warmup_steps,
                                          num_training_steps=c.max_train_steps)
        # two DDP wrappers (a ModuleDict has no forward); each averages its module's gradients over the processes
        self.unet, self.text_encoder = acc.prepare(pipe.unet, pipe.text_encoder)

    # -- the loop -------------------------------------------------------------------------------

    def train(self) -> BaseResult:
        """Run the UNet stage to `max_train_steps` (or the time budget), resuming from the newest checkpoint."""
        from tqdm.auto import tqdm

        c, acc = self.config, self.accelerator
        self.global_step, self.elapsed_before = 0, 0.0
        if ckpt.checkpoints(self.out):
            state = ckpt.load_checkpoint(ckpt.find_checkpoint(self.out, "latest"), self.trainable, self.optimizer,
                                         self.lr_scheduler)
            self.global_step, self.elapsed_before = state["step"], state["elapsed_s"]
        log = LossLog(self.out / LOSS_LOG, self.global_step, enabled=acc.is_main_process, extra=("grounding",))
        bar = tqdm(total=c.max_train_steps, initial=self.global_step, desc="train-base: UNet + text encoder",
                   unit="step", disable=not (self.progress and acc.is_main_process))
        self.start, stopped, last_loss = time.monotonic(), "done", None
        try:
            while self.global_step < c.max_train_steps:
                if c.max_minutes is not None and any_process(acc, self.elapsed() > 60 * c.max_minutes):
                    stopped = "time budget"
                    break
                last_loss, grounding = self.step(self.global_step)
                self.global_step += 1
                log.write(self.global_step, self._epoch(), last_loss, self.lr_scheduler.get_last_lr()[0],
                          self.elapsed() - self.elapsed_before,
                          grounding="" if grounding is None else f"{grounding:.6f}")
                bar.update(1)
                bar.set_postfix(loss=f"{last_loss:.4f}")
                if self.global_step % c.checkpointing_steps == 0:
                    self._checkpoint()
            self._checkpoint()
        finally:
            bar.close()
            log.close()
        self.trainable.eval().requires_grad_(False)
        if last_loss is None and self.global_step:  # resumed at the last step: the loss of the run that took it
            rows = (self.out / LOSS_LOG).read_text().splitlines()[1:]
            last_loss = float(rows[-1].split(",")[2]) if rows else None
        model_dir = self.save_model(stopped, last_loss)
        return BaseResult(model_dir, self.global_step, stopped, last_loss, self.elapsed())

    def batch(self, step: int) -> tuple[list[int], list]:
        """(this process's dataset indices, their per-sample generators) at `step`.

        The step's global batch is a seeded draw of P x train_batch_size distinct keyframes; process
        r takes the slots r, r + P, ...: the same samples and noise for any process count.
        """
        import torch

        acc = self.accelerator
        size = self.config.train_batch_size * acc.num_processes
        drawn = torch.randperm(len(self.dataset), generator=step_generator(self.config.seed, step, stream=UNET_STREAM))
        slots = list(range(acc.process_index, min(size, len(drawn)), acc.num_processes))
        return drawn[slots].tolist(), sample_generators(self.config.seed, step, slots, stream=UNET_STREAM)

    def step(self, step: int) -> tuple[float, float | None]:
        """One optimiser step of the UNet and text encoder; (denoising loss, grounding loss) averaged over all processes."""
        import torch

        from text2asl.diffusion.objective import grounding_loss, grounding_samples, record_cross_attention

        c, acc = self.config, self.accelerator
        idx, gens = self.batch(step)
        ids = self.input_ids[idx].clone()
        dropped = torch.tensor([bool(torch.rand(1, generator=g) < c.caption_dropout) for g in gens], device=ids.device)
        ids[dropped] = self.empty_ids
        latents = sample_latents(self.mean[idx], self.std[idx], self.scale, gens)
        hidden = self.text_encoder(ids, return_dict=False)[0]
        with record_cross_attention(self.pipe.unet) if c.grounding_weight else contextlib.nullcontext() as record:
            loss = diffusion_loss(self.unet, self.noise_scheduler, latents, hidden, gens, c.snr_gamma)
        grounding = None
        if c.grounding_weight:
            tokens, hands = self.gloss_tokens[idx] * ~dropped[:, None], self.hand_cells[idx]
            # the mean over the global batch's counted samples, whatever their split over the processes
            counted = acc.gather(grounding_samples(tokens, hands).sum().reshape(1).float()).sum().item()
            grounding = grounding_loss(record, tokens, hands, denominator=max(counted, 1.0) / acc.num_processes)
        mean_loss = self._mean(loss)
        if not math.isfinite(mean_loss):
            raise Text2ASLError(f"base training loss became {mean_loss} at step {step + 1}; "
                                "lower the learning rate and rerun (it resumes from the newest checkpoint)")
        self.optimizer.zero_grad(set_to_none=True)
        acc.backward(loss if grounding is None else loss + c.grounding_weight * grounding)
        acc.clip_grad_norm_(self.params, c.max_grad_norm)
        self.optimizer.step()
        self.lr_scheduler.step()
        return mean_loss, None if grounding is None else self._mean(grounding)

    def _mean(self, value) -> float:
        """A scalar tensor averaged over the processes, as a float."""
        return self.accelerator.gather(value.detach().reshape(1)).mean().item()

    def elapsed(self) -> float:
        """UNet-stage seconds of all runs into this folder."""
        return self.elapsed_before + time.monotonic() - self.start

    def _epoch(self) -> int:
        return self.global_step * self.config.train_batch_size * self.accelerator.num_processes // len(self.dataset)

    def _checkpoint(self) -> None:
        acc = self.accelerator
        acc.wait_for_everyone()
        if acc.is_main_process:
            ckpt.save_checkpoint(self.out, self.global_step, self._epoch(), self.trainable, self.optimizer,
                                 self.lr_scheduler, None, self.config.checkpoints_total_limit,
                                 extra={"elapsed_s": self.elapsed(), "seed": self.config.seed})

    # -- outputs --------------------------------------------------------------------------------

    def info(self, stopped: str, last_loss: float | None) -> dict:
        """train_base.json: how this base was made (provenance, glosses, the settings generation should use)."""
        c, init_from = self.config, self.init_from
        return {
            "command": "text2asl train-base",
            "lexicon": self.lexicon.name,
            "seed": c.seed,
            "init_from": None if init_from is None else {"model": str(init_from), **_provenance(init_from)},
            "global_step": self.global_step,
            "stopped": stopped,
            "elapsed_s": round(self.elapsed(), 1),
            "final_loss": last_loss,
            "held_out_glosses": [gloss_token(g) for g in c.held_out],
            "training_glosses": self.train_glosses,
            "glosses": read_info(self.data_dir).get("glosses", {}),  # instances and mean duration, as train-lora records them
            "guidance_scale": c.guidance_scale,
            "n_phases": c.n_phases,
            "resolution": c.resolution,
            "config": c.to_dict(),
            "num_processes": self.accelerator.num_processes,
        }

    def save_model(self, stopped: str, last_loss: float | None) -> Path:
        """OUT/model: the base as a diffusers folder, fp16 safetensors and train_base.json (main process, atomically)."""
        acc, model_dir = self.accelerator, self.out / MODEL_SUBDIR
        acc.wait_for_everyone()
        if acc.is_main_process:
            info = self.info(stopped, last_loss)

            def save(folder: Path) -> None:
                self.pipe.save_pretrained(folder, safe_serialization=True)
                for weights in folder.glob("*/*.safetensors"):
                    halve_safetensors(weights)
                (folder / BASE_INFO).write_text(json.dumps(info, indent=1))

            save_folder_atomically(save, model_dir)
        acc.wait_for_everyone()
        return model_dir


def train_base(lexicon_dir, output_dir: str | Path, config: BaseTrainingConfig, progress: bool = True,
               init_from: str | None = None, **overrides) -> BaseResult:
    """Pre-train a tiny base on the keyframes of `lexicon_dir` (minus the held-out glosses); see the module doc.

    Stops after `config.max_train_steps` UNet steps or `config.max_minutes` of UNet-stage wall time
    (all runs into `output_dir` together), whichever comes first, and always writes OUT/model.
    `init_from`: a base model folder (or "tiny-asl") to start from instead of random weights; its VAE
    is kept. `overrides` (e.g. max_train_steps=6) replace fields of `config`; None values are ignored.
    """
    config = config.replace(**{k: v for k, v in overrides.items() if v is not None})
    return BaseTrainer(config, lexicon_dir, output_dir, progress=progress, init_from=init_from).train()
