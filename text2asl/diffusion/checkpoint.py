"""Resumable training checkpoints without pickle: trainable weights and AdamW state as safetensors, the rest as JSON.

    RUN/checkpoint-200/weights.safetensors     trainable parameters by name (the LoRA tensors)
    RUN/checkpoint-200/optimizer.safetensors   per-parameter optimiser tensors (exp_avg, exp_avg_sq, step)
    RUN/checkpoint-200/state.json              step, epoch, optimiser hyper-parameters, lr scheduler, grad scaler

accelerate's `save_state` would do most of this, but it stores the optimiser with `torch.save`
(pickle); the project loads nothing with pickle. A checkpoint is written under a temporary name and
renamed when complete, so a run killed while saving never leaves a half checkpoint that
`--resume latest` would pick; one damaged later (a truncated file, a bad state.json) is skipped,
with a note, for the newest checkpoint that reads intact.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from text2asl.errors import Text2ASLError
from text2asl.io import atomic_folder

PREFIX = "checkpoint-"
_NAME = re.compile(rf"^{PREFIX}(\d+)$")


def checkpoints(run_dir: str | Path) -> list[Path]:
    """Complete checkpoints of a run, oldest first."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return []
    found = [(int(m[1]), p) for p in run_dir.iterdir() if (m := _NAME.match(p.name)) and (p / "state.json").is_file()]
    return [p for _, p in sorted(found)]


def find_checkpoint(run_dir: str | Path, resume: str) -> Path:
    """The checkpoint `resume` names: 'latest' or a folder (absolute, or a name inside `run_dir`)."""
    if resume == "latest":
        found = checkpoints(run_dir)
        if not found:
            raise Text2ASLError(f"--resume latest: {run_dir} holds no checkpoint yet; start without --resume")
        return found[-1]
    path = Path(resume) if Path(resume).is_absolute() else Path(run_dir) / resume
    if not (path / "state.json").is_file():
        raise Text2ASLError(f"--resume {resume}: {path} is not a complete checkpoint; use --resume latest or a {PREFIX}N folder")
    return path


class DamagedCheckpoint(Text2ASLError):
    """A checkpoint file that cannot be read (truncated, not safetensors, state.json not what save_checkpoint wrote)."""


def read_checkpoint(path: str | Path) -> tuple[dict, dict, dict]:
    """(state.json, weights, optimiser tensors) of the checkpoint at `path`, all read and checked; DamagedCheckpoint if not."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    try:
        state = json.loads((path / "state.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DamagedCheckpoint(f"{path / 'state.json'} is unreadable ({type(exc).__name__})") from None
    shape = (isinstance(state, dict) and type(state.get("step")) is int and state["step"] >= 0
             and isinstance(state.get("optimizer"), dict) and isinstance(state["optimizer"].get("param_groups"), list)
             and isinstance(state["optimizer"].get("scalars"), dict) and isinstance(state.get("lr_scheduler"), dict))
    if not shape:
        raise DamagedCheckpoint(f"{path / 'state.json'} lacks the step, optimizer or lr_scheduler that a checkpoint holds")
    tensors = []
    for name in ("weights.safetensors", "optimizer.safetensors"):
        try:
            tensors.append(load_file(str(path / name)))
        except (OSError, SafetensorError, ValueError) as exc:
            detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            raise DamagedCheckpoint(f"{path / name} is unreadable ({detail})") from None
    return state, tensors[0], tensors[1]


def intact_checkpoint(run_dir: str | Path, resume: str, note=print) -> Path:
    """The checkpoint to resume from: the one `resume` names, or for 'latest' the newest one that reads intact.

    Each damaged checkpoint skipped on the way is reported through `note` (one line each); a named
    checkpoint that is damaged, or a run whose checkpoints are all damaged, is a Text2ASLError.
    """
    path = find_checkpoint(run_dir, resume)
    if resume != "latest":
        try:
            read_checkpoint(path)
        except DamagedCheckpoint as exc:
            raise Text2ASLError(f"--resume {resume}: {exc}; resume from another checkpoint or use --resume latest") from None
        return path
    damaged = []
    for candidate in reversed(checkpoints(run_dir)):
        try:
            read_checkpoint(candidate)
        except DamagedCheckpoint as exc:
            damaged.append(str(exc))
            note(f"train-lora: skipping damaged checkpoint {candidate.name}: {exc}")
            continue
        if damaged:
            note(f"train-lora: resuming from {candidate.name}, the newest intact checkpoint")
        return candidate
    raise Text2ASLError(f"--resume latest: every checkpoint in {run_dir} is damaged (newest: {damaged[0]}); "
                        "start again without --resume")


def _split_optimizer(state_dict: dict) -> tuple[dict, dict]:
    """torch optimiser state_dict -> (tensors by 'param_id.name', JSON-able rest)."""
    import torch

    tensors, scalars = {}, {}
    for pid, per_param in state_dict["state"].items():
        for name, value in per_param.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{pid}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{name}"] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def _join_optimizer(tensors: dict, meta: dict) -> dict:
    state: dict[int, dict] = {}
    for key, value in list(tensors.items()) + list(meta["scalars"].items()):
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = value
    groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else g for g in meta["param_groups"]]
    return {"state": state, "param_groups": groups}


def save_checkpoint(run_dir: str | Path, step: int, epoch: int, model, optimizer, lr_scheduler, scaler=None,
                    total_limit: int | None = None, extra: dict | None = None) -> Path:
    """Write checkpoint-`step` atomically (`io.atomic_folder`); keep only the newest `total_limit` checkpoints. Returns its path."""
    run_dir = Path(run_dir)
    final = run_dir / f"{PREFIX}{step}"
    with atomic_folder(final) as tmp:
        _write_checkpoint(tmp, step, epoch, model, optimizer, lr_scheduler, scaler, extra)
    if total_limit:
        for old in checkpoints(run_dir)[:-total_limit]:
            shutil.rmtree(old, ignore_errors=True)
    return final


def _write_checkpoint(tmp: Path, step: int, epoch: int, model, optimizer, lr_scheduler, scaler, extra: dict | None) -> None:
    """The files of one checkpoint, into the (temp) folder `tmp`."""
    from safetensors.torch import save_file

    weights = {n: p.detach().cpu().contiguous() for n, p in model.named_parameters() if p.requires_grad}
    save_file(weights, str(tmp / "weights.safetensors"))
    opt_tensors, opt_meta = _split_optimizer(optimizer.state_dict())
    save_file(opt_tensors, str(tmp / "optimizer.safetensors"))
    state = {
        "step": step,
        "epoch": epoch,
        "optimizer": opt_meta,
        "lr_scheduler": lr_scheduler.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else None,
        **(extra or {}),
    }
    (tmp / "state.json").write_text(json.dumps(state, indent=1, default=float))


def load_checkpoint(path: str | Path, model, optimizer, lr_scheduler, scaler=None) -> dict:
    """Restore weights, optimiser, scheduler and scaler from `path` in place; returns state.json."""
    import torch

    path = Path(path)
    state, weights, opt_tensors = read_checkpoint(path)
    params = dict(model.named_parameters())
    mismatched = [n for n, t in weights.items() if n not in params or params[n].shape != t.shape]
    tokens = "text_encoder.embeddings.token_embedding.weight"  # trained only with --token-learning-rate
    if mismatched and (tokens in weights) != any(n.startswith("text_encoder.") for n in params):
        trained, fix = (("also trained", "give --token-learning-rate again") if tokens in weights
                        else ("did not train", "drop --token-learning-rate"))
        raise Text2ASLError(f"checkpoint {path} {trained} the gloss tokens' embeddings; to resume it, {fix} "
                            "(or start a new output folder)")
    if mismatched:
        raise Text2ASLError(
            f"checkpoint {path} does not fit this model ({len(mismatched)} tensors differ, e.g. {mismatched[0]}); "
            "resume with the same --base-model and --rank, or start a new output folder"
        )
    with torch.no_grad():
        for name, tensor in weights.items():
            params[name].copy_(tensor.to(params[name].dtype))
    try:
        optimizer.load_state_dict(_join_optimizer(opt_tensors, state["optimizer"]))
        lr_scheduler.load_state_dict(state["lr_scheduler"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Text2ASLError(f"checkpoint {path} holds an optimiser or scheduler state that does not fit this run "
                            f"({type(exc).__name__}); resume with the same settings, or start a new output folder") from None
    return state
