"""The grounding loss (TokenCompose's token loss): its values, which samples count, that it moves attention, and its inputs."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from text2asl.diffusion.caption import gloss_positions  # noqa: E402
from text2asl.diffusion.objective import CrossAttentionRecord, grounding_loss, record_cross_attention  # noqa: E402
from text2asl.diffusion.config import BASE_PRESETS  # noqa: E402
from text2asl.diffusion.tiny import build_tiny_pipeline  # noqa: E402

PROMPTS = ["asl skeleton, HELLO, phase 1 of 2", "asl skeleton, THANK-YOU, phase 2 of 2"]
SMOKE = BASE_PRESETS["smoke"].arch  # the smallest model of tiny-asl's shape: these tests need its layout, not its size

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _record(*maps):
    record = CrossAttentionRecord()
    record.maps.extend(maps)
    return record


def _attention(where: np.ndarray, token: int, t: int = 4) -> "torch.Tensor":
    """(1, h*w, t) probabilities: token `token` takes `where` (h, w) of each pixel's attention, token 0 the rest."""
    w = torch.tensor(where, dtype=torch.float32).reshape(1, -1)
    probs = torch.zeros(1, w.shape[1], t)
    probs[0, :, token] = w[0]
    probs[0, :, 0] += 1 - w[0]
    return probs


REGION = np.zeros((4, 4), np.float32)
REGION[:2, :2] = 1.0  # a quarter of the image


@pytest.mark.parametrize("where, expected", [
    (REGION, 0.0),                                # all of the word's attention inside the region
    (1 - REGION, 1.0),                            # all of it outside
    (np.full((4, 4), 0.5, np.float32), 0.75**2),  # spread evenly: the region's area share, 1/4
])
def test_loss_is_the_squared_share_outside_the_region(where, expected):
    tokens = torch.tensor([[0.0, 1.0, 0.0, 0.0]])
    loss = grounding_loss(_record(_attention(where, 1)), tokens, torch.from_numpy(REGION)[None])
    assert float(loss) == pytest.approx(expected, abs=1e-6)


def test_coarser_layers_see_the_region_area_averaged():
    tokens = torch.tensor([[0.0, 1.0, 0.0, 0.0]])
    coarse = _attention(np.array([[1.0, 0.0], [0.0, 0.0]], np.float32), 1)  # the top-left 2x2 cell holds the region
    fine = _attention(REGION, 1)
    assert float(grounding_loss(_record(coarse, fine), tokens, torch.from_numpy(REGION)[None])) == pytest.approx(0.0)


@pytest.mark.parametrize("tokens, region, counted", [
    ([[0, 1, 0, 0], [0, 1, 0, 0]], [REGION, REGION], [True, True]),
    ([[0, 0, 0, 0], [0, 1, 0, 0]], [REGION, REGION], [False, True]),          # an empty (dropped) caption
    ([[0, 1, 0, 0], [0, 1, 0, 0]], [REGION, np.zeros_like(REGION)], [True, False]),  # no hand in the frame
    ([[0, 0, 0, 0], [0, 1, 0, 0]], [REGION, np.zeros_like(REGION)], [False, False]),
])
def test_samples_without_a_word_or_a_region_add_nothing(tokens, region, counted):
    probs = torch.cat([_attention(1 - REGION, 1), _attention(REGION, 1)])  # sample 0 misses (1), sample 1 hits (0)
    loss = grounding_loss(_record(probs), torch.tensor(tokens, dtype=torch.float32), torch.from_numpy(np.stack(region)))
    per_sample = np.array([1.0, 0.0])
    expected = per_sample[counted].mean() if any(counted) else 0.0
    assert float(loss) == pytest.approx(expected)


def test_gloss_positions_cover_every_sub_token_of_the_gloss():
    from transformers import CLIPTokenizer

    pipe = build_tiny_pipeline(PROMPTS, resolution=32, arch=SMOKE)
    ids = pipe.tokenizer(PROMPTS[1]).input_ids
    positions = gloss_positions(pipe.tokenizer, PROMPTS[1])
    assert pipe.tokenizer.decode([ids[p] for p in positions]).replace(" ", "") == "THANK-YOU"
    assert gloss_positions(pipe.tokenizer, "a photo of a cat") == []

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "a": 2, "s": 3, "l": 4, "k": 5, "e": 6, "t": 7, "o": 8, "n": 9,
             "p": 10, "h": 11, ",</w>": 12, "asl</w>": 13, "skeleton</w>": 14, "he": 15, "llo</w>": 16, "phase</w>": 17,
             "1</w>": 18, "of</w>": 19, "2</w>": 20, "ll": 21, "o</w>": 22}
    merges = [("h", "e"), ("l", "l"), ("ll", "o</w>")]
    clip = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)
    tokens = clip.convert_ids_to_tokens(clip("asl skeleton, hello, phase 1 of 2").input_ids)
    assert [tokens[p] for p in gloss_positions(clip, "asl skeleton, hello, phase 1 of 2")] == ["he", "llo</w>"]


def test_a_step_on_the_loss_moves_the_gloss_attention_into_the_region():
    """The gradient reaches the UNet and the text encoder through the recorded maps: one SGD step raises the share."""
    pipe = build_tiny_pipeline(PROMPTS, resolution=32, arch=SMOKE)
    unet, text = pipe.unet.train(), pipe.text_encoder.train()
    ids = pipe.tokenizer(PROMPTS[:1], padding="max_length", max_length=pipe.tokenizer.model_max_length,
                         return_tensors="pt").input_ids
    tokens = torch.zeros(ids.shape)
    tokens[0, gloss_positions(pipe.tokenizer, PROMPTS[0])] = 1.0
    side = unet.config.sample_size
    region = torch.zeros(1, side, side)
    region[0, : side // 2, : side // 2] = 1.0
    latents = torch.randn(1, unet.config.in_channels, side, side, generator=torch.Generator().manual_seed(0))
    params = list(unet.parameters()) + list(text.parameters())
    opt = torch.optim.SGD(params, lr=0.5)

    def loss():
        with record_cross_attention(unet) as record:
            unet(latents, torch.tensor([500]), text(ids, return_dict=False)[0])
        assert record.maps and all(m.requires_grad == torch.is_grad_enabled() for m in record.maps)
        return grounding_loss(record, tokens, region)

    before = loss()
    opt.zero_grad()
    before.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in text.parameters())
    opt.step()
    with torch.no_grad():
        after = loss()
    assert after.item() < before.item()
    assert all(type(p).__name__ != "CaptureProcessor" for p in unet.attn_processors.values())  # restored


def test_dataset_rows_record_the_hand_boxes_the_quality_masks_use(tmp_path):
    from helpers import make_lexicon
    from text2asl.diffusion.dataset import SkeletonImageDataset, boxes_mask, make_dataset, read_metadata
    from text2asl.evaluation.keyframes import keyframe_hand_masks

    lexicon = make_lexicon(tmp_path / "lex", {"book": "B", "cat": "C"})
    data = make_dataset([lexicon], tmp_path / "data", resolution=32, n_phases=2, progress=False)
    rows = read_metadata(data)
    masks = keyframe_hand_masks(lexicon, data, ["BOOK", "CAT"])
    for row in rows:
        assert row["hands"] and all(0 <= v < 32 for box in row["hands"] for v in box)
    first = {g: [r for r in rows if r["gloss"] == g and r["source"] == rows_src] for g, rows_src in
             {r["gloss"]: r["source"] for r in reversed(rows)}.items()}
    for gloss, its_rows in first.items():
        for row in its_rows:
            assert np.array_equal(boxes_mask(row["hands"], 32), masks[gloss][row["phase"] - 1])
    pipe = build_tiny_pipeline([r["text"] for r in rows], resolution=32, arch=SMOKE)
    ds = SkeletonImageDataset(data, pipe.tokenizer, 32)
    cells = ds.hand_masks(8)
    assert cells.shape == (len(rows), 8, 8) and float(cells.min()) >= 0 and float(cells.max()) <= 1
    assert torch.allclose(cells.mean((1, 2)), torch.tensor([boxes_mask(r["hands"], 32).mean() for r in rows]).float())
    mask = ds.gloss_token_mask(pipe.tokenizer)
    assert mask.shape == ds.input_ids.shape and bool((mask.sum(1) == 1).all())  # BOOK, CAT: one word-level token
