"""Generation: keyframes per gloss and phase, LoRA scale and fuse, interpolation to fps, the translate path's video."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from text2asl.diffusion.config import get_preset  # noqa: E402
from text2asl.diffusion.generate import (  # noqa: E402
    expand_glosses, generate_keyframes, interpolate_keyframes, render_glosses,
)
from text2asl.diffusion.model import load_pipeline, training_info  # noqa: E402
from text2asl.diffusion.train import train_lora  # noqa: E402

FAST = dict(num_inference_steps=2, progress=False)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def run(tmp_path_factory, alphabet_data, smoke_base):
    root = tmp_path_factory.mktemp("gen")
    data, base = alphabet_data, smoke_base
    # A large lr so that two steps move the LoRA visibly (the test checks scale 0 vs 1).
    config = get_preset("smoke", base_model=str(base), resolution=32, train_batch_size=4, max_train_steps=2,
                        learning_rate=5e-2, lr_scheduler="constant", lr_warmup_steps=0, validation_epochs=0)
    train_lora(config, data, root / "run", progress=False)
    return root / "run"


def test_expand_glosses_fingerspells_unknown_words():
    known = {"A": {}, "B": {}, "O": {}, "HELLO": {}}
    assert expand_glosses(["HELLO", "fs-BOB", "#ab", "BOA", "ZEBRA"], known) == ["HELLO", "B", "O", "B", "A", "B", "B", "O", "A", "ZEBRA"]
    assert expand_glosses(["fs-BOB", "thank you"], None) == ["BOB", "THANK-YOU"]


def test_interpolation_timeline():
    k1 = np.stack([np.full((4, 4, 3), v, np.uint8) for v in (0, 100)])
    k2 = np.stack([np.full((4, 4, 3), 200, np.uint8)])
    frames = list(interpolate_keyframes([k1, k2], [1.0, 0.5], fps=10))
    assert len(frames) == 15 and all(f.shape == (4, 4, 3) and f.dtype == np.uint8 for f in frames)
    values = [int(f[0, 0, 0]) for f in frames]
    assert values[0] == 0 and values[-1] == 200  # held before the first / after the last keyframe
    assert values == sorted(values)  # monotone cross-fades, no overshoot
    assert 0 < values[4] < 100  # between the first two keyframes


def test_keyframes_shape_and_seed(run):
    pipe = load_pipeline(training_info(run)["base_model_path"], lora_dir=run, device="cpu")
    frames = generate_keyframes(pipe, ["A", "B", "C"], n_phases=2, seed=3, batch_size=3, **FAST)
    assert len(frames) == 3 and all(f.shape == (2, 32, 32, 3) and f.dtype == np.uint8 for f in frames)
    again = generate_keyframes(pipe, ["B"], n_phases=2, seed=3, **FAST)
    np.testing.assert_array_equal(again[0], frames[1])  # batching does not change a gloss's keyframes


def test_lora_scale_and_fuse(run):
    base_path = training_info(run)["base_model_path"]
    plain = generate_keyframes(load_pipeline(base_path, device="cpu"), ["A"], 2, **FAST)[0]
    pipe = load_pipeline(base_path, lora_dir=run, device="cpu")
    pipe.set_adapters(["skeleton"], adapter_weights=[0.0])
    off = generate_keyframes(pipe, ["A"], 2, **FAST)[0]
    pipe.set_adapters(["skeleton"], adapter_weights=[1.0])
    on = generate_keyframes(pipe, ["A"], 2, **FAST)[0]
    np.testing.assert_array_equal(off, plain)
    assert not np.array_equal(on, plain)
    fused = list(render_glosses(["A"], None, run, fps=4, size=32, fuse=True, **FAST))
    unfused = list(render_glosses(["A"], None, run, fps=4, size=32, **FAST))
    assert len(fused) == len(unfused)
    assert max(np.abs(a.astype(int) - b.astype(int)).max() for a, b in zip(fused, unfused)) <= 3


def test_render_glosses_frame_count_and_size(run):
    info = training_info(run)
    frames = list(render_glosses(["A", "fs-BC"], None, run, fps=10, size=48, **FAST))
    seconds = sum(info["glosses"][g]["duration_s"] for g in ("A", "B", "C"))
    assert len(frames) == round(seconds * 10)
    assert all(f.shape == (48, 48, 3) and f.dtype == np.uint8 for f in frames)
    assert list(render_glosses([], None, run)) == []


def test_translate_with_diffusion_renderer_writes_playable_video(run, tmp_path, capsys):
    from text2asl.cli import main
    from text2asl.io import read_video

    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.enable_progress_bar()  # as in a fresh process: -q must turn the libraries' own bars off
    transformers_logging.enable_progress_bar()
    out = tmp_path / "out.mp4"
    code = main(["translate", "--glosses", "A B", "--renderer", "diffusion", "--lora", str(run), "--size", "32",
                 "--fps", "8", "-o", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert err == "", err  # -q: no progress bar of ours, diffusers' or transformers' (loading weights)
    frames, meta = read_video(out)
    decoded = list(frames)
    info = training_info(run)
    expected = round(8 * (info["glosses"]["A"]["duration_s"] + info["glosses"]["B"]["duration_s"]))
    assert meta["size"] == (32, 32) and len(decoded) == meta["n_frames"] == expected
