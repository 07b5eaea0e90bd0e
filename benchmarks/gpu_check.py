"""A GPU check ready for the day a GPU is lent: SD v1-4-sized LoRA training at the course's settings, timed and measured.

    python benchmarks/gpu_check.py [--work DIR] [--base-model DIR] [--gradient-checkpointing]
    python benchmarks/gpu_check.py --dry-run      # the same stages on the CPU at toy size (tests run it)

The stages run in one process, so that torch's CUDA memory counters see every one of them:

1. the random-weight SD v1-4 folder (`sd14_full_size.build_sd14_folder`: SD v1-4's exact architecture
   and layout, random weights), reused when DIR/sd-v1-4-random exists; `--base-model` names another
   folder (the real SD v1-4, say) instead;
2. the embedded alphabet as a skeleton dataset at the model's resolution (26 letters x 2 phases);
3. `text2asl train-lora`: fp16 mixed precision, 512², batch 8, 20 steps, a checkpoint at step 10;
4. `--resume checkpoint-10` to step 20 again: the LoRA must come out as the uninterrupted run's;
5. keyframes of two glosses with the LoRA (`generate_keyframes`, the run's own generation settings);
6. cross-attention maps of one caption (`attention_maps`).

It prints each stage's wall time and peak GPU memory (allocated and reserved by torch), training's
seconds per step (median over steps 2-20: the first step's warm-up is left out), and whether the
peak fits the course's 24 GB RTX 3090. It exits 1 when a stage fails or the peak does not fit, and
without a CUDA GPU it exits 1 with one sentence, unless `--dry-run` (toy sizes, batch 2, 4 steps,
peak RSS instead of GPU memory). Expected: well under 8 minutes on one GPU, most of it building and
saving the random 1.1-billion-parameter folder.
"""
from __future__ import annotations

import argparse
import csv
import gc
import os
import resource
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from sd14_full_size import SCALES, build_sd14_folder

GLOSSES = ["A", "B"]
N_PHASES = 2
FITS_GIB = 23.0  # the RTX 3090's 24 GiB, less about one for the CUDA context and fragmentation


@dataclass(frozen=True)
class Scale:
    """What one run of the check trains: the SD v1-4 folder's scale and train-lora's batch, steps and checkpoint."""

    folder: str  # a key of sd14_full_size.SCALES
    batch: int
    steps: int
    checkpoint: int
    sample_steps: int  # denoising steps for keyframes and attention maps


FULL = Scale("full", batch=8, steps=20, checkpoint=10, sample_steps=25)
DRY_RUN = Scale("tiny", batch=2, steps=4, checkpoint=2, sample_steps=2)


class Meter:
    """Wall time and peak memory of each stage: torch's CUDA peak on a GPU, the process's peak RSS on the CPU."""

    def __init__(self, cuda: bool):
        self.cuda = cuda
        self.rows: list[tuple[str, float, float, float]] = []  # stage, seconds, peak allocated GiB, peak reserved GiB

    def stage(self, name: str, fn, *args, **kwargs):
        import torch

        gc.collect()
        if self.cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        start = time.monotonic()
        print(f"-- {name}", flush=True)
        result = fn(*args, **kwargs)
        if self.cuda:
            torch.cuda.synchronize()
            allocated, reserved = torch.cuda.max_memory_allocated() / 2**30, torch.cuda.max_memory_reserved() / 2**30
        else:
            allocated = reserved = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        self.rows.append((name, time.monotonic() - start, allocated, reserved))
        return result

    def table(self) -> str:
        memory = "peak GPU GiB (allocated / reserved)" if self.cuda else "peak RSS GiB (process)"
        lines = [f"| stage | seconds | {memory} |", "|---|---:|---:|"]
        lines += [f"| {name} | {s:.1f} | {a:.2f} / {r:.2f} |" if self.cuda else f"| {name} | {s:.1f} | {r:.2f} |"
                  for name, s, a, r in self.rows]
        return "\n".join(lines)

    def peak_reserved(self) -> float:
        return max(r for _, _, _, r in self.rows)


def train_lora(base: Path, data: Path, run: Path, scale: Scale, checkpointing: bool, resume: str | None = None) -> None:
    """`text2asl train-lora` at the course's settings (fp16, rank 4, lr 1e-4), through the command itself."""
    from text2asl.cli import main as text2asl

    argv = ["train-lora", "--base-model", str(base), "--data", str(data), "-o", str(run), "--preset", "sd-v1-4",
            "--resolution", str(SCALES[scale.folder]["resolution"]), "--train-batch-size", str(scale.batch),
            "--max-train-steps", str(scale.steps), "--checkpointing-steps", str(scale.checkpoint),
            "--mixed-precision", "fp16", "--validation-epochs", "0", "-q"]
    argv += ["--gradient-checkpointing"] if checkpointing else []
    argv += ["--resume", resume] if resume else []
    code = text2asl(argv)
    if code:
        raise SystemExit(f"gpu_check: text2asl train-lora exited {code} (its error is above)")


def seconds_per_step(run: Path) -> float:
    """Median time between consecutive optimiser steps in the run's loss.csv (the first step's warm-up excluded)."""
    import numpy as np

    with open(run / "loss.csv", newline="") as fh:
        elapsed = [float(row["elapsed_s"]) for row in csv.DictReader(fh)]
    return float(np.median(np.diff(elapsed))) if len(elapsed) > 1 else float("nan")


def lora_difference(a: dict, b: dict) -> float:
    """Largest |difference| between two LoRA state dicts with the same keys, relative to the largest weight."""
    if a.keys() != b.keys():
        return float("inf")
    diff = max((x.float() - b[k].float()).abs().max().item() for k, x in a.items())
    scale = max(x.float().abs().max().item() for x in a.values())
    return diff / scale if scale else diff  # NaN stays NaN and fails every comparison


def generate(base: Path, run: Path, scale: Scale, device: str):
    from text2asl.diffusion.generate import generate_keyframes, generation_config
    from text2asl.diffusion.model import load_pipeline

    pipe = load_pipeline(str(base), lora_dir=run, device=device)
    config = generation_config(str(base), run, num_inference_steps=scale.sample_steps)
    keyframes = generate_keyframes(pipe, GLOSSES, config, progress=False)
    print(f"   {len(keyframes)} glosses x {keyframes[0].shape[0]} keyframes of {keyframes[0].shape[1]}², "
          f"guidance {config.guidance_scale:g}, {config.num_inference_steps} steps")
    return pipe, config


def attention(pipe, config) -> None:
    from text2asl.diffusion.attention import attention_maps
    from text2asl.diffusion.caption import caption

    maps = attention_maps(pipe, [caption(GLOSSES[0], 1, N_PHASES)], config)[0]
    gloss = maps.gloss()
    print(f"   gloss {gloss.word!r}: map {gloss.heat.shape}, share of the attention {gloss.heat.mean():.1%}")


def check(work: Path, scale: Scale, base: Path | None, checkpointing: bool, cuda: bool) -> int:
    """Run every stage under `work`; print the table; 0 when all passed and the peak fits a 24 GB card."""
    import torch
    from safetensors.torch import load_file

    from text2asl.diffusion.dataset import INFO
    from text2asl.diffusion.fixtures import alphabet_dataset
    from text2asl.diffusion.model import LORA_WEIGHTS, stable_diffusion_pipeline

    stable_diffusion_pipeline()  # diffusers and transformers imported before the first stage's clock starts
    meter = Meter(cuda)
    if base is None:
        base = work / f"sd-v1-4-random-{scale.folder}"
        if not base.is_dir():  # built beside it and renamed when complete, so an interrupted build is never reused
            partial = base.with_name(base.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            meter.stage("build the random-weight SD v1-4 folder", build_sd14_folder, partial, scale.folder)
            partial.rename(base)
    resolution = SCALES[scale.folder]["resolution"]
    data = work / f"alphabet-{resolution}px-{N_PHASES}phases"
    if not (data / INFO).is_file():  # make-dataset writes it last
        shutil.rmtree(data, ignore_errors=True)
        meter.stage("make-dataset (embedded alphabet)", alphabet_dataset, data, resolution, N_PHASES)
    run = work / "run"
    shutil.rmtree(run, ignore_errors=True)
    title = f"train-lora ({scale.steps} steps, batch {scale.batch}, {resolution}², fp16)"
    meter.stage(title, train_lora, base, data, run, scale, checkpointing)
    per_step = seconds_per_step(run)
    uninterrupted = load_file(str(run / LORA_WEIGHTS))
    (run / LORA_WEIGHTS).unlink()
    meter.stage(f"resume from checkpoint-{scale.checkpoint}", train_lora, base, data, run, scale, checkpointing,
                resume=f"checkpoint-{scale.checkpoint}")
    difference = lora_difference(uninterrupted, load_file(str(run / LORA_WEIGHTS)))
    device = "cuda" if cuda else "cpu"
    pipe, config = meter.stage("keyframes with the LoRA", generate, base, run, scale, device)
    meter.stage("cross-attention maps", attention, pipe, config)

    print()
    print(meter.table())
    print(f"\ntrain-lora: {per_step:.3f} s per step (median of steps 2-{scale.steps}), {torch.get_num_threads()} CPU "
          f"threads, {torch.cuda.get_device_name() if cuda else 'CPU'}")
    # CPU kernels are deterministic; GPU ones (cuDNN convolution backward) are not bit for bit.
    tolerance = 1e-3 if cuda else 0.0
    resumed_ok = difference <= tolerance
    print(f"resume: LoRA {'identical to' if difference == 0 else 'differs from'} the uninterrupted run's "
          f"(max |difference| / max |weight| = {difference:.2e}, allowed {tolerance:g})")
    fits = True
    if cuda:
        peak = meter.peak_reserved()
        fits = peak <= FITS_GIB
        print(f"peak GPU memory {peak:.2f} GiB reserved: {'fits' if fits else 'does NOT fit'} a 24 GB RTX 3090 "
              f"(limit {FITS_GIB:g} GiB){'' if fits or checkpointing else '; try --gradient-checkpointing'}")
    print("gpu_check:", "ok" if resumed_ok and fits else "FAILED")
    return 0 if resumed_ok and fits else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="the same stages on the CPU at toy size (seconds)")
    parser.add_argument("--work", type=Path, default=None,
                        help="work folder, kept: the SD v1-4 folder and dataset are reused (default: a temporary one)")
    parser.add_argument("--base-model", type=Path, default=None, help="an SD v1-4 folder to use instead of the random one")
    parser.add_argument("--gradient-checkpointing", action="store_true", help="pass --gradient-checkpointing to train-lora")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch

    cuda = torch.cuda.is_available() and not args.dry_run
    if not cuda and not args.dry_run:
        print("gpu_check: error: no CUDA GPU is visible to torch (torch.cuda.is_available() is False); run it on a GPU "
              "machine, or pass --dry-run for the small CPU rehearsal", file=sys.stderr)
        return 1
    if args.base_model is not None and not (args.base_model / "model_index.json").is_file():
        print(f"gpu_check: error: {args.base_model} is not a diffusers folder (no model_index.json); pass a local "
              "SD v1-4 folder or leave --base-model out", file=sys.stderr)
        return 1
    if args.dry_run:  # diffusers warns about any UNet sample size under 64 latents, as the toy folder's is
        warnings.filterwarnings("ignore", message="The configuration file of the unet has set the default `sample_size`")
    work = args.work or Path(tempfile.mkdtemp(prefix="gpu-check-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return check(work, DRY_RUN if args.dry_run else FULL, args.base_model, args.gradient_checkpointing, cuda)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
