"""The DTW recogniser on a toy set made from the embedded alphabet, and on real data when present."""
from __future__ import annotations

import numpy as np
import pytest

from text2asl.evaluation import recognize
from text2asl.evaluation.baselines import perturbed, retimed
from text2asl.gloss_to_pose.lexicon import Lexicon
from text2asl.poses.layout import LEFT_HAND, LEFT_WRIST, RIGHT_HAND, RIGHT_WRIST, PoseArray

TOY = ("A", "B", "C", "J", "L", "O", "V", "Y", "Z")


@pytest.fixture(scope="module")
def toy() -> list[tuple[str, PoseArray]]:
    lex = Lexicon.embedded()
    return [(g, lex.load(lex.find(g)[0])) for g in TOY]


@pytest.fixture(scope="module")
def recognizer(toy) -> recognize.Recognizer:
    return recognize.Recognizer(toy)


def _another_signer(arr: PoseArray, scale=1.6, shift=(140.0, -60.0), left_handed=False, speed=0.7) -> PoseArray:
    """The same sign as if filmed closer, elsewhere in the frame, slower, with rest frames around it."""
    out = retimed(arr, 1 / speed)
    out.xyz[..., :2] = out.xyz[..., :2] * scale + np.array(shift, np.float32)
    if left_handed:
        out = recognize.mirror(out)
    rest = out.slice(0, 1).copy()
    for wrist in (LEFT_WRIST, RIGHT_WRIST):  # hands down in the lap, out of the hand detector's sight
        rest.xyz[:, wrist, 1] += 3 * scale * 150
    rest.conf[:, LEFT_HAND] = rest.conf[:, RIGHT_HAND] = 0
    return PoseArray.concatenate([rest] * 8 + [out] + [rest] * 8)


def test_every_toy_sign_is_its_own_nearest_neighbour(toy, recognizer):
    for gloss, arr in toy:
        match = recognizer.rank(arr)
        assert match.glosses[0] == gloss and match.distances[0] == pytest.approx(0.0, abs=1e-9)


def test_robust_to_size_position_speed_rest_frames_noise_and_handedness(toy, recognizer):
    queries = [(g, perturbed(_another_signer(a, left_handed=i % 2 == 1), 0.02, 0.05, i)) for i, (g, a) in enumerate(toy)]
    matches = [recognizer.rank(q) for _, q in queries]
    truths = [g for g, _ in queries]
    assert recognize.top_k_accuracy(matches, truths, 1) >= 8 / 9
    assert recognize.top_k_accuracy(matches, truths, 5) == 1.0


def test_the_naive_recogniser_breaks_under_the_same_changes(toy):
    naive = recognize.Recognizer(toy, naive=True)
    queries = [(g, _another_signer(a, left_handed=True)) for g, a in toy]
    acc = recognize.top_k_accuracy([naive.rank(q) for _, q in queries], [g for g, _ in queries], 1)
    assert acc < 0.5


def test_mirror_is_an_involution_and_swaps_the_hands(toy):
    _, arr = toy[0]
    from text2asl.poses.normalize import normalize

    norm = normalize(arr)
    twice = recognize.mirror(recognize.mirror(norm))
    np.testing.assert_allclose(twice.xyz, norm.xyz)
    once = recognize.mirror(norm)
    np.testing.assert_allclose(once.conf[:, LEFT_HAND], norm.conf[:, RIGHT_HAND])
    assert recognize.is_left_dominant(once) and not recognize.is_left_dominant(norm)


def test_features_have_a_fixed_length_and_are_finite(toy):
    f = recognize.features(toy[0][1])
    assert f.shape[0] == recognize.FeatureConfig().n_frames and np.isfinite(f).all()


def test_ranking_lists_each_gloss_once_and_unknown_truths_count_as_misses(toy):
    rec = recognize.Recognizer(toy + [("A", toy[0][1])])
    match = rec.rank(toy[0][1])
    assert len(match.glosses) == len(set(match.glosses)) == len(TOY)
    assert match.rank_of("a") == 1 and match.rank_of("NOT-A-SIGN") is None
    assert recognize.top_k_accuracy([match], ["NOT-A-SIGN"], 5) == 0.0
    with pytest.raises(ValueError):
        recognize.Recognizer([])


@pytest.mark.shared_data
def test_cross_signer_alphabet_beats_the_naive_recogniser(asl_app_lexicon):
    """Embedded alphabet (one signer) recognised among the 100 ASL-App signs (another signer)."""
    app = recognize.Recognizer.from_lexicon(asl_app_lexicon)
    naive = recognize.Recognizer.from_lexicon(asl_app_lexicon, naive=True)
    emb = Lexicon.embedded()
    queries = [(e.gloss, emb.load(e)) for e in emb.entries]
    truths = [g for g, _ in queries]
    robust5 = recognize.top_k_accuracy([app.rank(q) for _, q in queries], truths, 5)
    naive5 = recognize.top_k_accuracy([naive.rank(q) for _, q in queries], truths, 5)
    assert robust5 >= 0.7 and robust5 > naive5 + 0.3
