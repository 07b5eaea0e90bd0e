"""LoRA fine-tuning of a Stable Diffusion UNet on a skeleton-image dataset, driven by accelerate.

The loop follows diffusers' `train_text_to_image_lora.py` (frozen VAE and text encoder, LoRA on the
UNet attention projections to_q/to_k/to_v/to_out.0, epsilon or v-prediction MSE with optional
min-SNR weighting), split into functions and made exactly resumable: the data order of each epoch
and the noise of each micro-step are derived from the seed and the step number, so a run
interrupted at any checkpoint and resumed with `--resume latest` ends with the same weights as an
uninterrupted run. `accelerate launch -m text2asl train-lora ...` runs the same code on several GPUs:
each process takes every P-th sample of the epoch's order and draws each sample's noise from its
slot in the global batch (objective.sample_generators), so P processes x batch B train as one
process x batch P*B does (up to float summation order); checkpoints and the LoRA are written by
the main process alone.

With `token_learning_rate`, the input embeddings of the dataset's gloss words train too, at their
own rate (pivotal tuning: LoRA + textual inversion). A toy base has untrained embeddings for the
glosses it never saw, and the LoRA alone cannot make up for them; SD v1-4's preset leaves this off.

Outputs in RUN/: pytorch_lora_weights.safetensors (loads with `pipe.load_lora_weights(RUN)` at the
trained strength: alpha / rank is folded into the up weights), token_embeddings.safetensors when
tokens were trained ({token: embedding}, see model.load_token_embeddings), training_info.json (the settings
that actually ran), loss.csv, validation/*.png and checkpoint-N/ (see checkpoint.py). A run whose loss or LoRA weights
turn NaN or infinite stops at once; the checkpoint whose weights made the NaN loss is renamed
diverged-checkpoint-N, so `--resume latest --learning-rate LOWER` starts from a good one.
"""
from __future__ import annotations

import contextlib
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from text2asl.diffusion import checkpoint as ckpt
from text2asl.diffusion.config import LoraTrainingConfig
from text2asl.diffusion.caption import parse_caption
from text2asl.diffusion.dataset import SkeletonImageDataset, check_images, read_info, read_metadata
from text2asl.diffusion.model import (LORA_WEIGHTS, TOKEN_EMBEDDINGS, TRAINING_INFO, hide_library_progress_bars,
                                      load_base_model, resolve_base_model, seeded_generator, stable_diffusion_pipeline)
from text2asl.diffusion.objective import diffusion_loss, encode_batch, sample_generators
from text2asl.diffusion.runlog import LOSS_LOG, LossLog, any_process
from text2asl.errors import Text2ASLError
from text2asl.io import make_folder, refuse_escaping_links

LORA_TARGETS = ["to_k", "to_q", "to_v", "to_out.0"]


@dataclass
class TrainResult:
    """How a call to `train_lora` ended."""

    output_dir: Path
    global_step: int
    max_train_steps: int
    stopped: str  # "done" or "time budget"
    last_loss: float | None


def epoch_order(n: int, seed: int, epoch: int, num_processes: int = 1, process_index: int = 0) -> list[int]:
    """This process's sample indices for `epoch`: a seeded permutation, padded to split evenly, then strided."""
    perm = np.random.default_rng([seed, epoch]).permutation(n).tolist()
    per_rank = math.ceil(n / num_processes)
    perm += perm[: per_rank * num_processes - n]
    return perm[process_index::num_processes]


class LoraTrainer:
    """One training run: sets up the accelerator, model, data and optimiser; `train()` runs or resumes it.

    Attributes after construction: `unet` (the prepared UNet with a LoRA adapter), `optimizer`,
    `lr_scheduler`, `dataset`, `max_train_steps`, `steps_per_epoch`.
    """

    def __init__(self, config: LoraTrainingConfig, data_dir: str | Path, output_dir: str | Path, progress: bool = True):
        import torch
        from accelerate import Accelerator
        from diffusers.optimization import get_scheduler
        from diffusers.training_utils import cast_training_params
        from peft import LoraConfig as PeftLoraConfig

        self.config = c = config
        self.data_dir = Path(data_dir)
        self.output_dir = Path(output_dir)
        self.progress = progress
        if not progress:
            hide_library_progress_bars()
        check_images(self.data_dir, read_metadata(self.data_dir))  # a bad dataset fails before any model is loaded
        read_info(self.data_dir)
        on_gpu = torch.cuda.is_available()
        self.requested_precision = c.mixed_precision
        if not on_gpu and c.mixed_precision != "no":
            # Mixed precision needs a GPU; record what runs, so training_info.json never claims fp16 on a CPU run.
            print(f"train-lora: --mixed-precision {c.mixed_precision} needs a GPU; this CPU run trains in fp32",
                  file=sys.stderr)
            self.config = c = c.replace(mixed_precision="no")
        self.accelerator = acc = Accelerator(
            gradient_accumulation_steps=c.gradient_accumulation_steps,
            mixed_precision=c.mixed_precision,
            cpu=not on_gpu,
        )
        self.weight_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(acc.mixed_precision, torch.float32)
        refuse_escaping_links(make_folder(self.output_dir, "run folder"), "run folder")
        self.base_path = resolve_base_model(c.base_model)

        self.base = base = load_base_model(self.base_path, dtype=self.weight_dtype)
        base.vae.to(acc.device)
        base.text_encoder.to(acc.device)
        base.unet.to(acc.device)
        torch.manual_seed(c.seed)  # LoRA init
        base.unet.add_adapter(PeftLoraConfig(r=c.rank, lora_alpha=c.alpha, init_lora_weights="gaussian",
                                             target_modules=LORA_TARGETS))
        cast_training_params(base.unet, dtype=torch.float32)  # LoRA params stay fp32 under fp16 mixed precision
        if c.gradient_checkpointing:
            base.unet.enable_gradient_checkpointing()
        self.trainable = params = [p for p in base.unet.parameters() if p.requires_grad]

        self.dataset = SkeletonImageDataset(self.data_dir, base.tokenizer, c.resolution)
        groups = [{"params": params}]
        self.token_ids = self._token_ids() if c.token_learning_rate else []
        if self.token_ids:
            base.text_encoder.get_input_embeddings().weight.requires_grad_(True)
            cast_training_params(base.text_encoder, dtype=torch.float32)  # fp32 under fp16 mixed precision
            emb = base.text_encoder.get_input_embeddings().weight
            rows = torch.zeros(emb.shape[0], 1, device=emb.device)
            rows[self.token_ids] = 1.0
            emb.register_hook(lambda grad: grad * rows.to(grad.dtype))  # every other word keeps its embedding
            groups.append({"params": [emb], "lr": c.token_learning_rate, "weight_decay": 0.0})
            self.trainable = params + [emb]
        per_rank = math.ceil(len(self.dataset) / acc.num_processes)
        self.steps_per_epoch = math.ceil(per_rank / (c.train_batch_size * c.gradient_accumulation_steps))
        self.max_train_steps = c.max_train_steps or c.num_train_epochs * self.steps_per_epoch
        self.num_epochs = math.ceil(self.max_train_steps / self.steps_per_epoch)

        optimizer = torch.optim.AdamW(groups, lr=c.learning_rate, betas=(c.adam_beta1, c.adam_beta2),
                                      weight_decay=c.adam_weight_decay, eps=c.adam_epsilon)
        lr_scheduler = get_scheduler(c.lr_scheduler, optimizer=optimizer,
                                     num_warmup_steps=c.lr_warmup_steps * acc.num_processes,
                                     num_training_steps=self.max_train_steps * acc.num_processes)
        self.unet, self.optimizer, self.lr_scheduler = acc.prepare(base.unet, optimizer, lr_scheduler)
        self.text_encoder = acc.prepare(base.text_encoder) if self.token_ids else None

    def _token_ids(self) -> list[int]:
        """Vocabulary ids of the dataset's gloss words (the unknown and special tokens excluded)."""
        tok = self.base.tokenizer
        found = set(self.dataset.input_ids[self.dataset.gloss_token_mask(tok) > 0].tolist())
        found -= {tok.unk_token_id, tok.bos_token_id, tok.eos_token_id, tok.pad_token_id}
        if not found:
            self._note("train-lora: --token-learning-rate: no caption names a gloss the tokenizer knows; "
                       "training the LoRA alone")
        return sorted(found)

    def _trained_modules(self):
        """What a checkpoint holds the trainable weights of: the UNet, or with trained tokens UNet and text encoder."""
        import torch

        unet = self.accelerator.unwrap_model(self.unet)
        if self.text_encoder is None:
            return unet
        return torch.nn.ModuleDict({"unet": unet, "text_encoder": self.accelerator.unwrap_model(self.text_encoder)})

    # -- set-up helpers -------------------------------------------------------------------------

    def _batches(self, epoch: int, skip: int):
        """Micro-batches of `epoch` for this process, skipping the first `skip` (already trained) ones."""
        from torch.utils.data import DataLoader

        acc, c = self.accelerator, self.config
        order = epoch_order(len(self.dataset), c.seed, epoch, acc.num_processes, acc.process_index)
        # Every epoch is exactly steps_per_epoch full accumulation groups (wrapping around, as
        # DistributedSampler pads): a partial group would silently spill into the next epoch's first
        # step and break the step <-> batch bookkeeping that exact resume relies on.
        n = self.steps_per_epoch * c.gradient_accumulation_steps * c.train_batch_size
        order = (order * math.ceil(n / len(order)))[:n][skip * c.train_batch_size:]
        return DataLoader(self.dataset, batch_size=self.config.train_batch_size, sampler=order)

    def _slots(self, micro: int, size: int) -> list[int]:
        """Positions in the step's global batch of this process's samples in micro-batch `micro`.

        Sample k of this process's micro-batch m is element (m * B + k) * P + rank of the step's part
        of the epoch order (epoch_order strides it over the P processes): 1 process x batch 8 and 2
        processes x batch 4 give each sample the same slot, hence the same noise.
        """
        acc, batch = self.accelerator, self.config.train_batch_size
        return [(micro * batch + k) * acc.num_processes + acc.process_index for k in range(size)]

    # -- the loop -------------------------------------------------------------------------------

    def train(self, resume: str | None = None) -> TrainResult:
        """Run to `max_train_steps` (or the time budget), from scratch or from a checkpoint."""
        from tqdm.auto import tqdm

        c, acc = self.config, self.accelerator
        global_step = 0
        if resume:
            state = ckpt.load_checkpoint(ckpt.intact_checkpoint(self.output_dir, resume, note=self._note),
                                         self._trained_modules(), self.optimizer, self.lr_scheduler, acc.scaler)
            global_step = state["step"]
            if global_step >= self.max_train_steps:  # a finished run: the loop below would train one step more
                self._note(f"train-lora: {Path(resume).name} already reached step {global_step} of "
                           f"{self.max_train_steps}; nothing left to train (raise --max-train-steps to train on)")
                self.save_lora(global_step)
                return TrainResult(self.output_dir, global_step, self.max_train_steps, "done", None)
            self._keep_learning_rate()
        log = LossLog(self.output_dir / LOSS_LOG, global_step, enabled=acc.is_main_process)
        bar = tqdm(total=self.max_train_steps, initial=global_step, desc="train-lora", unit="step",
                   disable=not (self.progress and acc.is_main_process))
        start, stopped, last_loss = time.monotonic(), "done", None
        accum = c.gradient_accumulation_steps
        first_epoch = global_step // self.steps_per_epoch
        try:
            for epoch in range(first_epoch, self.num_epochs):
                self.unet.train()
                skip = (global_step - epoch * self.steps_per_epoch) * accum
                running = []
                for i, batch in enumerate(self._batches(epoch, skip)):
                    gen = sample_generators(c.seed, global_step, self._slots(i % accum, len(batch["input_ids"])))
                    with acc.accumulate(*(m for m in (self.unet, self.text_encoder) if m is not None)):
                        latents, hidden = encode_batch(self.base, batch, gen, self.weight_dtype, self.text_encoder)
                        loss = diffusion_loss(self.unet, self.base.noise_scheduler, latents, hidden, gen, c.snr_gamma)
                        mean_loss = acc.gather(loss.detach().reshape(1)).mean().item()
                        acc.backward(loss)
                        if acc.sync_gradients:
                            acc.clip_grad_norm_(self.trainable, c.max_grad_norm)
                        self.optimizer.step()
                        self.lr_scheduler.step()
                        self.optimizer.zero_grad(set_to_none=True)
                        # After the step, so that neither a non-finite loss nor weights it broke get saved.
                        if not math.isfinite(mean_loss) or not self._weights_finite():
                            self._stop_diverged(global_step + 1, mean_loss)
                    running.append(mean_loss)
                    if not acc.sync_gradients:
                        continue
                    global_step += 1
                    last_loss = float(np.mean(running))
                    running = []
                    lr = self.lr_scheduler.get_last_lr()[0]
                    log.write(global_step, epoch, last_loss, lr, time.monotonic() - start)
                    bar.update(1)
                    bar.set_postfix(loss=f"{last_loss:.4f}", epoch=epoch)
                    over_budget = c.max_minutes is not None and any_process(
                        acc, time.monotonic() - start > 60 * c.max_minutes)  # one decision, or the others wait forever
                    if global_step % c.checkpointing_steps == 0 or global_step == self.max_train_steps or over_budget:
                        self._checkpoint(global_step, epoch)
                    if over_budget and global_step < self.max_train_steps:
                        stopped = "time budget"
                    if global_step >= self.max_train_steps or stopped != "done":
                        break
                finished = global_step >= self.max_train_steps
                if stopped == "done" and c.validation_epochs and (finished or (epoch + 1) % c.validation_epochs == 0):
                    self.validate(global_step, epoch)
                if finished or stopped != "done":
                    break
        finally:
            bar.close()
            log.close()
        self.save_lora(global_step)
        return TrainResult(self.output_dir, global_step, self.max_train_steps, stopped, last_loss)

    def _weights_finite(self) -> bool:
        import torch

        return bool(torch.stack([torch.isfinite(p).all() for p in self.trainable]).all())

    def _stop_diverged(self, step: int, loss: float) -> None:
        """Stop at a non-finite loss or weights, keeping only checkpoints that are known good; raises.

        A non-finite loss at `step` comes from the weights after step - 1, so checkpoint-(step - 1),
        if there is one, is moved aside as diverged-checkpoint-(step - 1) (kept for inspection):
        `--resume latest` then picks the newest checkpoint whose next step was still finite.
        """
        import shutil

        what = f"the loss became {loss}" if not math.isfinite(loss) else "the LoRA weights became infinite or NaN"
        suspect = self.output_dir / f"{ckpt.PREFIX}{step - 1}"
        if self.accelerator.is_main_process and not math.isfinite(loss) and suspect.is_dir():
            aside = self.output_dir / f"diverged-{suspect.name}"
            shutil.rmtree(aside, ignore_errors=True)
            suspect.rename(aside)
        self.accelerator.wait_for_everyone()
        good = ckpt.checkpoints(self.output_dir)
        lower = f"{self.config.learning_rate / 10:.0e}"
        where = (f"the last good checkpoint is {good[-1].name}, so rerun with --resume latest --learning-rate {lower}"
                 if good else f"no good checkpoint is left, so start again with a lower --learning-rate such as {lower}")
        raise Text2ASLError(f"training diverged at step {step} ({what}) and stopped without saving it; {where}")

    def _note(self, line: str) -> None:
        if self.accelerator.is_main_process:
            print(line, file=sys.stderr)

    def _keep_learning_rate(self) -> None:
        """After a resume, train at this run's --learning-rate, not the one restored from the checkpoint.

        The optimiser and scheduler state carry the old run's base learning rate; a rerun after a
        divergence gives a lower one, and must get it (with the schedule's warm-up/decay factor kept).
        """
        scheduler = getattr(self.lr_scheduler, "scheduler", self.lr_scheduler)  # accelerate wraps it
        wanted = [self.config.learning_rate, self.config.token_learning_rate][: len(scheduler.base_lrs)]
        if all(math.isclose(base, lr, rel_tol=1e-9) for base, lr in zip(scheduler.base_lrs, wanted)):
            return
        self._note(f"train-lora: resuming with --learning-rate {wanted[0]:g} instead of the checkpoint's "
                   f"{scheduler.base_lrs[0]:g}")
        scheduler.base_lrs = list(wanted)
        factors = [f(scheduler.last_epoch) for f in scheduler.lr_lambdas]
        for group, factor, lr in zip(self.optimizer.param_groups, factors, wanted):
            group["initial_lr"] = lr
            group["lr"] = lr * factor

    def _checkpoint(self, step: int, epoch: int) -> None:
        acc = self.accelerator
        acc.wait_for_everyone()
        if acc.is_main_process:
            ckpt.save_checkpoint(self.output_dir, step, epoch, self._trained_modules(), self.optimizer,
                                 self.lr_scheduler, acc.scaler, self.config.checkpoints_total_limit,
                                 extra={"max_train_steps": self.max_train_steps})

    # -- outputs --------------------------------------------------------------------------------

    def lora_state_dict(self) -> dict:
        """The LoRA tensors in diffusers' naming (what `save_lora_weights` writes), fp32 on the CPU.

        The up (B) weights carry the factor alpha / rank: a LoRA file holds no alpha, so every loader
        (diffusers' `load_lora_weights`, translate) applies B @ A at scale 1, and folding the factor
        in makes that the update the trainer's UNet applied.
        """
        from diffusers.utils import convert_state_dict_to_diffusers
        from peft.utils import get_peft_model_state_dict

        unet = self.accelerator.unwrap_model(self.unet)
        fold = self.config.alpha / self.config.rank
        state = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
        return {k: v.detach().float().cpu() * (fold if ".lora.up." in k else 1.0) for k, v in state.items()}

    def token_embeddings(self) -> dict:
        """{token: (D,) fp32 embedding} of the trained gloss words ({} when tokens were not trained)."""
        if not self.token_ids:
            return {}
        weight = self.accelerator.unwrap_model(self.text_encoder).get_input_embeddings().weight
        names = self.base.tokenizer.convert_ids_to_tokens(self.token_ids)
        return {name: weight[i].detach().float().cpu().clone() for name, i in zip(names, self.token_ids)}

    def save_lora(self, step: int) -> Path:
        """Write pytorch_lora_weights.safetensors and training_info.json into the run folder."""
        StableDiffusionPipeline = stable_diffusion_pipeline()
        acc = self.accelerator
        acc.wait_for_everyone()
        if acc.is_main_process:
            StableDiffusionPipeline.save_lora_weights(self.output_dir, unet_lora_layers=self.lora_state_dict(),
                                                      safe_serialization=True)
            if self.token_ids:
                from safetensors.torch import save_file

                from text2asl.io import atomic_path

                with atomic_path(self.output_dir / TOKEN_EMBEDDINGS) as tmp:
                    save_file(self.token_embeddings(), str(tmp))
            info = read_info(self.data_dir)
            rows = self.dataset.rows
            info_glosses = info.get("glosses") or {r.get("gloss") or (parse_caption(r["text"]) or ("",))[0]: {} for r in rows}
            (self.output_dir / TRAINING_INFO).write_text(json.dumps({
                "base_model": self.config.base_model,
                "base_model_path": self.base_path,
                "dataset": str(self.data_dir),
                "resolution": self.config.resolution,
                "n_phases": info.get("n_phases") or max((r.get("n_phases", 1) for r in rows), default=1),
                "glosses": info_glosses,
                "global_step": step,
                "max_train_steps": self.max_train_steps,
                "trained_tokens": sorted(self.token_embeddings()),
                "config": self.config.to_dict(),  # mixed_precision: what ran
                "requested_mixed_precision": self.requested_precision,
            }, indent=1))
        return self.output_dir / LORA_WEIGHTS

    def validation_prompts(self) -> list[str]:
        if self.config.validation_prompts:
            return list(self.config.validation_prompts)
        captions = self.dataset.captions
        return [captions[0], captions[len(captions) // 2]] if len(captions) > 1 else captions[:1]

    def validate(self, step: int, epoch: int) -> Path | None:
        """Draw the validation prompts with a fixed seed into validation/step-N.png (main process only)."""
        import torch
        from diffusers import DPMSolverMultistepScheduler
        from PIL import Image

        StableDiffusionPipeline = stable_diffusion_pipeline()
        acc = self.accelerator
        if not acc.is_main_process:
            return None
        b = self.base
        pipe = StableDiffusionPipeline(
            vae=b.vae, text_encoder=b.text_encoder, tokenizer=b.tokenizer, unet=acc.unwrap_model(self.unet),
            scheduler=DPMSolverMultistepScheduler.from_config(b.noise_scheduler.config),
            safety_checker=None, feature_extractor=None, requires_safety_checker=False,
        )
        pipe.set_progress_bar_config(disable=True)
        images = []
        with torch.autocast(acc.device.type, enabled=acc.mixed_precision != "no"):
            for prompt in self.validation_prompts():
                gen = seeded_generator(self.config.seed)
                images.append(pipe(prompt, num_inference_steps=self.config.validation_inference_steps,
                                   guidance_scale=self.config.guidance_scale, generator=gen,
                                   height=self.config.resolution, width=self.config.resolution,
                                   output_type="np").images[0])
        folder = self.output_dir / "validation"
        make_folder(folder, "run folder")
        path = folder / f"step-{step:06d}_epoch-{epoch + 1:03d}.png"
        Image.fromarray((np.concatenate(images, axis=1) * 255).round().astype(np.uint8)).save(path)
        (folder / "prompts.txt").write_text("\n".join(self.validation_prompts()) + "\n")
        return path


def train_lora(config: LoraTrainingConfig, data_dir: str | Path, output_dir: str | Path, resume: str | None = None,
               progress: bool = True) -> TrainResult:
    """Train (or resume) a LoRA for `config.base_model` on the skeleton dataset in `data_dir`; see module doc.

    Everything a user can get wrong (the run folder, the checkpoint to resume, the dataset files) is
    checked before any model is loaded or trained.
    """
    if Path(output_dir).exists() and not Path(output_dir).is_dir():
        raise Text2ASLError(f"-o {output_dir} is a file, not a run folder; give a new or existing folder")
    if Path(output_dir).is_dir():  # before any model loads: nothing of this run may be written through a link
        refuse_escaping_links(output_dir, "run folder")
    if resume:
        resume = str(ckpt.intact_checkpoint(output_dir, resume, note=lambda line: print(line, file=sys.stderr)).resolve())
    trainer = LoraTrainer(config, data_dir, output_dir, progress=progress)
    try:
        return trainer.train(resume=resume)
    except BaseException:
        if not resume and not ckpt.checkpoints(output_dir):  # nothing to resume from: the steps' log alone is no result
            with contextlib.suppress(OSError):
                (Path(output_dir) / LOSS_LOG).unlink()
        raise
