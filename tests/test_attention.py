"""Cross-attention maps: one per word, a distribution over tokens per pixel, sub-words merged, processors restored."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from text2asl.diffusion.attention import (  # noqa: E402
    AttentionMaps, attention_maps, capture_cross_attention, plot_gloss_grid,
)
from text2asl.diffusion.caption import token_words  # noqa: E402
from text2asl.diffusion.config import BASE_PRESETS, GenerationConfig  # noqa: E402
from text2asl.diffusion.tiny import build_tiny_pipeline  # noqa: E402

PROMPTS = ["asl skeleton, HELLO, phase 1 of 2", "asl skeleton, THANK-YOU, phase 2 of 2"]
SMOKE = BASE_PRESETS["smoke"].arch  # the smallest model of tiny-asl's shape: these tests need its layout, not its size


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def pipe():
    from peft import LoraConfig

    p = build_tiny_pipeline(PROMPTS, resolution=32, arch=SMOKE)
    p.set_progress_bar_config(disable=True)
    # A LoRA adapter with non-zero B, so the maps are taken through the LoRA layers.
    p.unet.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights="gaussian",
                                  target_modules=["to_k", "to_q", "to_v", "to_out.0"]))
    with torch.no_grad():
        for name, param in p.unet.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.05)
    return p


def test_maps_are_token_distributions(pipe):
    maps = attention_maps(pipe, PROMPTS, GenerationConfig(num_inference_steps=2, guidance_scale=3.0))
    assert len(maps) == 2
    m = maps[0]
    assert m.words == ["asl", "skeleton", ",", "HELLO", ",", "phase", "1", "of", "2"]
    assert m.heat.shape == (9, 32, 32) and m.image.shape == (32, 32, 3) and m.image.dtype == np.uint8
    assert (m.heat >= 0).all() and (m.other >= 0).all()
    np.testing.assert_allclose(m.heat.sum(0) + m.other, 1.0, atol=1e-4)  # softmax over all 77 tokens
    hello = m.gloss()
    assert hello.word == "HELLO" and hello.heat.shape == (32, 32)
    np.testing.assert_array_equal(hello.heat, m.word("hello").heat)
    thank_you = maps[1].gloss()  # THANK - YOU: three word-level tokens, one gloss
    idx = [maps[1].words.index(w) for w in ("THANK", "-", "YOU")]
    np.testing.assert_allclose(thank_you.heat, maps[1].heat[idx].sum(0), rtol=1e-6)


def test_capture_does_not_change_the_image(pipe):
    gen = torch.Generator().manual_seed(0)
    plain = pipe(PROMPTS[:1], num_inference_steps=2, guidance_scale=3.0, generator=gen, height=32, width=32,
                 output_type="np").images[0]
    maps = attention_maps(pipe, PROMPTS[:1], GenerationConfig(num_inference_steps=2, guidance_scale=3.0))
    np.testing.assert_allclose(maps[0].image.astype(float), np.round(np.clip(plain, 0, 1) * 255), atol=1.0)


def test_only_attn2_replaced_and_restored_after_error(pipe):
    original = dict(pipe.unet.attn_processors)
    with pytest.raises(RuntimeError, match="forced"):
        with capture_cross_attention(pipe) as store:
            during = pipe.unet.attn_processors
            assert all((during[k] is original[k]) != (".attn2." in k) for k in original)

            def boom(*args, **kwargs):
                raise RuntimeError("forced failure mid-generation")

            pipe("asl skeleton, HELLO", num_inference_steps=2, height=32, width=32, callback_on_step_end=boom)
    after = pipe.unet.attn_processors
    assert all(after[k] is original[k] for k in original)
    assert store.count > 0  # the attn2 layers did record before the failure


def test_unconditional_half_is_dropped(pipe):
    with capture_cross_attention(pipe, (16, 16)) as store:
        pipe(PROMPTS, num_inference_steps=1, guidance_scale=3.0, height=32, width=32, output_type="np")
    assert store.mean().shape[0] == 2  # two prompts, not 2 x (unconditional + conditional)
    with capture_cross_attention(pipe, (16, 16)) as store:
        pipe(PROMPTS, num_inference_steps=1, guidance_scale=1.0, height=32, width=32, output_type="np")
    assert store.mean().shape[0] == 2


def test_clip_subwords_merge_into_words():
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "h": 2, "e": 3, "l": 4, "o": 5, "he": 6, "ll": 7,
             "o</w>": 8, "hell": 9, "a": 10, "s": 11, "as": 12, "l</w>": 13, "asl</w>": 14, ",</w>": 15}
    merges = [("h", "e"), ("l", "l"), ("he", "ll"), ("a", "s"), ("as", "l</w>")]
    tok = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)
    groups = token_words(tok, "asl hello, hello")
    assert [(w, pos) for w, pos, _ in groups] == [("asl", [1]), ("hello", [2, 3]), (",", [4]), ("hello", [5, 6])]
    assert groups[1][2] == (4, 9)


def test_overlay_and_grid_plots(pipe):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    maps = attention_maps(pipe, PROMPTS, GenerationConfig(num_inference_steps=1))
    fig, ax = plt.subplots()
    assert maps[0].gloss().plot_overlay(ax=ax) is ax and len(ax.images) == 2
    grid = plot_gloss_grid(maps)
    assert len(grid.axes) == 4 and [a.get_title() for a in grid.axes[:2]] == ["HELLO", "THANK-YOU"]
    plt.close("all")
    assert isinstance(maps[0], AttentionMaps)


def _synthetic_maps(heat: np.ndarray) -> AttentionMaps:
    """AttentionMaps of made-up word shares (n_words, H, W); the rest of each pixel's attention goes to the other tokens."""
    words = [f"w{i}" for i in range(len(heat))]
    return AttentionMaps("made up", np.zeros(heat.shape[1:] + (3,), np.uint8), words, heat.astype(np.float32),
                         (1 - heat.sum(0)).astype(np.float32), [(0, 0)] * len(words))


def test_contrast_divides_out_what_all_words_share():
    rng = np.random.default_rng(0)
    own = rng.uniform(0.5, 1.5, (3, 8, 8))  # each word's own pattern
    common = np.linspace(0.2, 1.0, 64).reshape(8, 8)  # all words brighter on one side (the skeleton, say)
    plain = _synthetic_maps(0.1 * own)
    brightened = _synthetic_maps(0.1 * own * common)
    for a, b in zip(plain.contrast(), brightened.contrast(), strict=True):
        np.testing.assert_allclose(a.heat, b.heat, rtol=1e-5)
        assert a.heat.mean() == pytest.approx(1.0)  # 1 is the word's usual share
    # a word that takes a larger share in one corner shows above 1 there, and the others below 1
    heat = np.full((2, 4, 4), 0.2)
    heat[0, :2, :2] = 0.6
    first, second = _synthetic_maps(heat).contrast()
    assert first.heat[0, 0] > 1 > first.heat[3, 3] and second.heat[0, 0] < 1 < second.heat[3, 3]


def test_contrast_plot(pipe):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    maps = attention_maps(pipe, PROMPTS[:1], GenerationConfig(num_inference_steps=1))
    contrast = maps[0].contrast()
    assert [c.word for c in contrast] == maps[0].words and all(c.heat.shape == (32, 32) for c in contrast)
    fig, ax = plt.subplots()
    assert contrast[3].plot_contrast(ax=ax) is ax and len(ax.images) == 2 and ax.get_title() == "HELLO"
    plt.close("all")
