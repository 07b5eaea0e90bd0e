"""Both trainers under `accelerate launch` with 2 processes (gloo on the CPU): the same weights as 1 process with the
double batch, checkpoints and weights written once by the main process, and a bit-identical resume.

The launch line is the README's multi-GPU line; on a machine without GPUs, `--multi_gpu` starts the
processes on the CPU with gloo (accelerate's `--cpu` would start only one: it needs mpirun for more).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("accelerate")

from text2asl.diffusion.config import BASE_PRESETS, get_preset  # noqa: E402
from text2asl.diffusion.model import LORA_WEIGHTS, TOKEN_EMBEDDINGS  # noqa: E402

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.slow]

# The README's multi-GPU line is LAUNCH + the train-lora options below (the test's folders and smoke sizes aside).
LAUNCH = ["launch", "--multi_gpu", "--num_processes", "2", "--main_process_port", "0", "-m", "text2asl"]
STEPS, HALF = 4, 2

# Loaded into every launched process: records which process writes which safetensors file.
RECORD_WRITES = '''
import os
import safetensors.torch as st

_save = st.save_file


def save_file(tensors, filename, metadata=None):
    with open(os.environ["TEXT2ASL_TEST_WRITES"], "a") as fh:
        fh.write(f"{os.environ.get('RANK', '0')} {filename}\\n")
    return _save(tensors, filename, metadata=metadata)


st.save_file = save_file
'''


def launch(args: list[str], tmp: Path) -> list[tuple[str, str]]:
    """Run `accelerate launch ... -m text2asl ARGS` with 2 processes; [(rank, safetensors path written)]."""
    hook = tmp / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(RECORD_WRITES)
    writes = tmp / "writes.txt"
    writes.unlink(missing_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "",
           "TEXT2ASL_TEST_WRITES": str(writes),
           "PYTHONPATH": os.pathsep.join([str(hook), str(Path(__file__).resolve().parents[1]),
                                          os.environ.get("PYTHONPATH", "")])}
    accelerate = Path(sys.executable).parent / "accelerate"
    cmd = [str(accelerate)] if accelerate.is_file() else [sys.executable, "-m", "accelerate.commands.accelerate_cli"]
    proc = subprocess.run(cmd + LAUNCH + args, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return written(tmp)


def written(tmp: Path) -> list[tuple[str, str]]:
    """[(rank, safetensors path)] that the processes of `launch(..., tmp)` wrote."""
    writes = tmp / "writes.txt"
    lines = writes.read_text().split("\n") if writes.is_file() else []
    return [tuple(line.split(" ", 1)) for line in lines if line]


def tensors(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path))


def log_rows(run: Path) -> list[list[str]]:
    """(step, epoch, loss) of every row of RUN/loss.csv."""
    return [line.split(",")[:3] for line in (run / "loss.csv").read_text().splitlines()[1:]]


@pytest.fixture(scope="module")
def tiny(alphabet_data, smoke_base):
    return alphabet_data, smoke_base  # 52 images: 6 full steps of 8 before the epoch wraps


def lora_args(base, data, out, *extra) -> list[str]:
    return ["train-lora", "--preset", "smoke", "--base-model", str(base), "--data", str(data), "-o", str(out),
            "--resolution", "32", "--train-batch-size", "4", "--max-train-steps", str(STEPS),
            "--checkpointing-steps", str(HALF), "--validation-epochs", "0", "--quiet", *extra]


@pytest.fixture(scope="module")
def lora_two(tiny, once_per_run):
    """A 2-process x batch 4 LoRA run (LoRA + gloss-token embeddings, the smoke preset) and what each process wrote;
    run once, for the two tests that read it, whichever worker they run in."""
    data, base = tiny

    def build(tmp: Path) -> None:
        tmp.mkdir(exist_ok=True)  # a failed first try left it
        launch(lora_args(base, data, tmp / "run"), tmp)

    tmp = once_per_run("lora-two", build)
    return tmp / "run", written(tmp)


@pytest.mark.slow(seconds=17)  # with lora_two
def test_lora_on_two_processes_reaches_the_weights_of_one_process_with_the_double_batch(tiny, lora_two, tmp_path):
    from text2asl.diffusion.train_lora import train_lora

    data, base = tiny
    run, writes = lora_two
    config = get_preset("smoke", base_model=str(base), resolution=32, train_batch_size=8, max_train_steps=STEPS,
                        checkpointing_steps=HALF, validation_epochs=0)
    train_lora(config, data, tmp_path / "one", progress=False)
    for name in (LORA_WEIGHTS, TOKEN_EMBEDDINGS):
        two, one = tensors(run / name), tensors(tmp_path / "one" / name)
        assert two.keys() == one.keys() and one
        moved = [k for k in one if one[k].abs().max() > 0]
        assert moved, f"{name}: nothing trained, so the comparison cannot fail"
        for k in one:
            torch.testing.assert_close(two[k], one[k], rtol=1e-4, atol=1e-6, msg=f"{name}: {k}")
    # written once each, all by the main process: 2 checkpoints (weights + optimiser) + LoRA + token embeddings
    assert {rank for rank, _ in writes} == {"0"}, writes
    paths = [Path(p) for _, p in writes]
    assert len(paths) == len(set(paths)) == 2 * 2 + 2
    assert sorted(p.name for p in run.glob("checkpoint-*")) == [f"checkpoint-{HALF}", f"checkpoint-{STEPS}"]


@pytest.mark.slow(seconds=14)
def test_lora_resume_on_two_processes_is_bit_identical(tiny, lora_two, tmp_path):
    data, base = tiny
    straight, _ = lora_two
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    # what a kill after the first checkpoint leaves: that checkpoint and the log up to it
    shutil.copytree(straight / f"checkpoint-{HALF}", resumed / f"checkpoint-{HALF}")
    shutil.copy(straight / "loss.csv", resumed / "loss.csv")
    launch(lora_args(base, data, resumed, "--resume", "latest"), tmp_path)
    for name in (LORA_WEIGHTS, TOKEN_EMBEDDINGS):
        a, b = tensors(straight / name), tensors(resumed / name)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    assert log_rows(resumed) == log_rows(straight)  # step, epoch, loss


@pytest.mark.slow(seconds=15)
def test_base_on_two_processes_reaches_the_weights_of_one_process_with_the_double_batch(tmp_path):
    from text2asl.gloss_to_pose.sublexicon import sub_lexicon
    from text2asl.diffusion.train_base import train_base
    from text2asl.gloss_to_pose.lexicon import Lexicon

    letters = sub_lexicon(Lexicon.embedded(), list("ABCDEFGHIKL"), tmp_path / "letters")  # 10 trained x 2 phases
    argv = ["train-base", "--preset", "smoke", "--lexicon", str(letters), "--held-out", "C", "--max-train-steps", "2",
            "--vae-steps", "2", "--train-batch-size", "4", "--quiet"]
    writes = launch(argv + ["-o", str(tmp_path / "two")], tmp_path)
    smoke = BASE_PRESETS["smoke"].replace(held_out=("C",), vae_steps=2)
    train_base(letters, tmp_path / "one", smoke, max_train_steps=2, train_batch_size=8, progress=False)
    for sub in ("unet", "text_encoder"):
        found = list((tmp_path / "one" / "model" / sub).glob("*.safetensors"))
        assert found
        for path in found:
            one, two = tensors(path), tensors(tmp_path / "two" / "model" / sub / path.name)
            assert one.keys() == two.keys()
            for k in one:  # saved as fp16: equal up to the rounding of a float32 difference
                torch.testing.assert_close(two[k].float(), one[k].float(), rtol=2e-3, atol=1e-4, msg=f"{sub}: {k}")
    losses = [[float(r[2]) for r in log_rows(tmp_path / run)] for run in ("two", "one")]
    assert losses[0] == pytest.approx(losses[1], rel=1e-4)
    assert {rank for rank, _ in writes} == {"0"}, writes
