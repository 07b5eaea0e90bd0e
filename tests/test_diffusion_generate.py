"""Generation: keyframes per gloss and phase, LoRA scale and fuse, interpolation to fps, the translate path's video."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from text2asl.diffusion.config import SD_V1_4, GenerationConfig, get_preset  # noqa: E402
from text2asl.diffusion.generate import (  # noqa: E402
    expand_glosses, generate_keyframes, generation_config, interpolate_keyframes, pipeline_generation_config,
    render_glosses,
)
from text2asl.diffusion.model import load_pipeline, training_info  # noqa: E402
from text2asl.diffusion.train_lora import train_lora  # noqa: E402

FAST = GenerationConfig(n_phases=2, num_inference_steps=2)


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
    frames = generate_keyframes(pipe, ["A", "B", "C"], FAST.replace(seed=3, batch_size=3), progress=False)
    assert len(frames) == 3 and all(f.shape == (2, 32, 32, 3) and f.dtype == np.uint8 for f in frames)
    again = generate_keyframes(pipe, ["B"], FAST.replace(seed=3), progress=False)
    np.testing.assert_array_equal(again[0], frames[1])  # batching does not change a gloss's keyframes


def test_lora_scale_and_fuse(run):
    base_path = training_info(run)["base_model_path"]
    plain = generate_keyframes(load_pipeline(base_path, device="cpu"), ["A"], FAST, progress=False)[0]
    pipe = load_pipeline(base_path, lora_dir=run, device="cpu")
    pipe.set_adapters(["skeleton"], adapter_weights=[0.0])
    off = generate_keyframes(pipe, ["A"], FAST, progress=False)[0]
    pipe.set_adapters(["skeleton"], adapter_weights=[1.0])
    on = generate_keyframes(pipe, ["A"], FAST, progress=False)[0]
    np.testing.assert_array_equal(off, plain)
    assert not np.array_equal(on, plain)
    fast = generation_config(None, run, fps=4, size=32, num_inference_steps=2)
    fused = list(render_glosses(["A"], None, run, fast.replace(fuse=True), progress=False))
    unfused = list(render_glosses(["A"], None, run, fast, progress=False))
    assert len(fused) == len(unfused)
    assert max(np.abs(a.astype(int) - b.astype(int)).max() for a, b in zip(fused, unfused)) <= 3


def test_generation_config_comes_from_the_models_record(run):
    tiny = generation_config("tiny-asl")  # train_base.json of the shipped base
    assert (tiny.guidance_scale, tiny.n_phases, tiny.resolution) == (3.0, 4, 64)
    sd = generation_config(SD_V1_4)  # no record: SD v1-4's own settings
    assert (sd.guidance_scale, sd.num_inference_steps, sd.resolution) == (7.5, 25, None)
    info = training_info(run)
    lora = generation_config(None, run)  # the LoRA run's record: its phases, resolution and guidance
    assert (lora.n_phases, lora.resolution, lora.guidance_scale) == (2, 32, info["config"]["guidance_scale"])
    given = generation_config("tiny-asl", guidance_scale=5.0, seed=None, size=64)  # None: not given
    assert (given.guidance_scale, given.seed, given.size, given.n_phases) == (5.0, 0, 64, 4)


@pytest.mark.parametrize("changes", [dict(guidance_scale=-1.0), dict(num_inference_steps=0), dict(n_phases=65),
                                     dict(fps=0.0), dict(seed=1.5), dict(size=float("nan")), dict(lora_scale=True)])
def test_generation_config_refuses_values_out_of_range(changes):
    from text2asl.errors import Text2ASLError

    name = next(iter(changes))
    with pytest.raises(Text2ASLError, match=f"generation setting {name} must be"):
        GenerationConfig(**changes)


def test_a_pipeline_with_a_lora_generates_with_the_runs_own_settings(run):
    pipe = load_pipeline(training_info(run)["base_model_path"], lora_dir=run, device="cpu")
    assert pipeline_generation_config(pipe) == generation_config(None, run)
    frames = generate_keyframes(pipe, ["A"], progress=False)[0]
    assert frames.shape == (2, 32, 32, 3)  # the run's 2 phases at 32², not SD v1-4's 8 phases


def test_generate_keyframes_with_defaults_uses_the_bases_own_settings():
    pipe = load_pipeline("tiny-asl", device="cpu")
    default = generate_keyframes(pipe, ["HELLO"], progress=False)[0]
    assert default.shape == (4, 64, 64, 3)  # the base's phases and resolution
    own = generate_keyframes(pipe, ["HELLO"], GenerationConfig(guidance_scale=3.0, n_phases=4, resolution=64),
                             progress=False)[0]
    np.testing.assert_array_equal(default, own)  # guidance 3, as train_base.json records
    sd = generate_keyframes(pipe, ["HELLO"], GenerationConfig(n_phases=4, resolution=64), progress=False)[0]
    assert not np.array_equal(default, sd)  # not SD v1-4's 7.5


def test_render_glosses_frame_count_and_size(run):
    info = training_info(run)
    frames = list(render_glosses(["A", "fs-BC"], None, run, generation_config(None, run, fps=10, size=48, num_inference_steps=2),
                                 progress=False))
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
