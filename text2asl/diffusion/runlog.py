"""Run bookkeeping both trainers share: the loss log (loss.csv), folders saved atomically, decisions all processes take together.

Both trainers import these from here, so neither imports the other (see objective.py for the loss).
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Callable

LOSS_LOG = "loss.csv"


class LossLog:
    """loss.csv (step, epoch, loss, lr, seconds, then any `extra` columns); on resume, rows past the checkpoint are dropped first.

    Only the main process writes (`enabled`); elapsed seconds continue across resumes.
    """

    FIELDS = ("step", "epoch", "loss", "lr", "elapsed_s")

    def __init__(self, path: Path, resume_step: int, enabled: bool = True, extra: tuple[str, ...] = ()):
        self.fh = None
        self.fields = self.FIELDS + tuple(extra)
        if not enabled:
            return
        kept = []
        if resume_step and path.is_file():
            with open(path, newline="") as fh:
                kept = [r for r in csv.DictReader(fh) if int(r["step"]) <= resume_step]
        self.offset = float(kept[-1]["elapsed_s"]) if kept else 0.0  # elapsed time continues across resumes
        self.fh = open(path, "w", newline="")
        self.writer = csv.DictWriter(self.fh, self.fields, restval="", extrasaction="ignore")
        self.writer.writeheader()
        self.writer.writerows(kept)
        self.fh.flush()

    def write(self, step: int, epoch: int, loss: float, lr: float, elapsed: float, **extra: str) -> None:
        if self.fh:
            self.writer.writerow({"step": step, "epoch": epoch, "loss": f"{loss:.6f}", "lr": f"{lr:.3g}",
                                  "elapsed_s": f"{self.offset + elapsed:.2f}", **extra})
            self.fh.flush()

    def close(self) -> None:
        if self.fh:
            self.fh.close()


def save_folder_atomically(save: Callable[[Path], object], folder: Path) -> None:
    """Call `save(tmp)` and rename tmp to `folder` (`io.atomic_folder`): a kill or a full disk never leaves a half-written folder."""
    from text2asl.io import atomic_folder

    with atomic_folder(folder) as tmp:
        save(tmp)


def any_process(accelerator, flag: bool) -> bool:
    """True on every process when `flag` is true on any: a decision (stop, save) all processes must take together."""
    if accelerator.num_processes == 1:
        return bool(flag)
    import torch

    return bool(accelerator.gather(torch.tensor([float(flag)], device=accelerator.device)).max() > 0)
