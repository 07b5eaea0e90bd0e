"""The DTW recogniser on a toy set made from the embedded alphabet, and on real data when present."""
from __future__ import annotations

import numpy as np
import pytest

from text2asl.evaluation import recognize
from text2asl.evaluation.baselines import perturbed, retimed
from text2asl.gloss_to_pose.lexicon import Lexicon
from text2asl.poses.layout import LEFT_HAND, LEFT_SHOULDER, LEFT_WRIST, RIGHT_HAND, RIGHT_SHOULDER, RIGHT_WRIST, PoseArray

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


def test_exactly_invariant_to_scale_offset_and_mirroring_and_nearly_to_speed(toy, recognizer):
    """A sign and its copy filmed bigger, elsewhere, by a left-handed signer: distance ~0 to itself."""
    for gloss, arr in toy:
        moved = arr.copy()
        moved.xyz[..., :2] = moved.xyz[..., :2] * 0.6 + np.array([-90.0, 45.0], np.float32)
        for query in (moved, recognize.mirror(moved), retimed(moved, 1.8)):
            match = recognizer.rank(query)
            assert match.glosses[0] == gloss
            assert match.distances[0] < 0.5 * match.distances[1]


def test_the_other_hand_counts_only_when_both_signs_show_it(toy):
    one_handed = toy[0][1]
    two_handed = one_handed.copy()
    two_handed.xyz[:, LEFT_HAND] = two_handed.xyz[:, RIGHT_HAND] + np.array([200.0, 0.0, 0.0], np.float32)
    two_handed.conf[:, LEFT_HAND] = 1.0
    config = recognize.FeatureConfig(mirror="auto")
    assert "other" not in recognize.feature_groups(one_handed, config)
    assert "other" in recognize.feature_groups(two_handed, config)
    rec = recognize.Recognizer([("ONE", one_handed), ("TWO", two_handed)], config)
    d = rec.distances(two_handed)
    # The body model's wrists did not move, so only the hand detector's other-hand groups differ.
    penalty = sum(config.weights[g] for g in ("other", "between", "other_shape")) * config.missing_other
    assert d[1] == pytest.approx(0.0, abs=1e-9) and d[0] == pytest.approx(penalty, rel=0.05)


def _two_handed(arr: PoseArray) -> PoseArray:
    """The sign with a mirror-image second hand: both hands (and body wrists) reflected about the body's midline."""
    out = arr.copy()
    centre = (out.xyz[:, LEFT_SHOULDER, 0] + out.xyz[:, RIGHT_SHOULDER, 0])[:, None] / 2
    out.xyz[:, LEFT_HAND], out.conf[:, LEFT_HAND] = out.xyz[:, RIGHT_HAND], out.conf[:, RIGHT_HAND]
    out.xyz[:, LEFT_HAND, 0] = 2 * centre - out.xyz[:, RIGHT_HAND, 0]
    out.xyz[:, LEFT_WRIST], out.conf[:, LEFT_WRIST] = out.xyz[:, RIGHT_WRIST], out.conf[:, RIGHT_WRIST]
    out.xyz[:, LEFT_WRIST, 0] = 2 * centre[:, 0] - out.xyz[:, RIGHT_WRIST, 0]
    return out


def _second_hand_lost(arr: PoseArray) -> PoseArray:
    """What the hand detector gives when it misses the second hand: the body model still has the arm."""
    out = arr.copy()
    out.conf[:, LEFT_HAND] = 0
    return out


def test_a_two_handed_sign_matches_its_reference_that_lost_the_second_hand(toy):
    """Two-handed versions of the toy signs, each query by another signer; the one reference of
    its gloss lacks the second hand (the hand detector missed it), the others have it."""
    two = [(g, _two_handed(a)) for g, a in toy]
    matches = []
    for i, (gloss, arr) in enumerate(two):
        refs = [(g, _second_hand_lost(a) if j == i else a) for j, (g, a) in enumerate(two)]
        matches.append(recognize.Recognizer(refs).rank(perturbed(_another_signer(arr), 0.02, 0.05, i)))
    assert recognize.top_k_accuracy(matches, [g for g, _ in two], 1) >= 8 / 9


def test_the_other_hand_groups_do_not_change_with_size_or_position(toy):
    _, arr = toy[2]
    two = _two_handed(arr)
    moved = two.copy()
    moved.xyz *= 0.6
    moved.xyz[..., :2] += np.array([-90.0, 45.0], np.float32)
    a, b = recognize.feature_groups(two), recognize.feature_groups(moved)
    assert {"other", "between", "other_shape", "other_wrist"} <= set(a)
    for g in a:
        np.testing.assert_allclose(a[g], b[g], atol=2e-3, err_msg=g)  # float32 poses


def test_the_other_wrist_rests_at_one_point_whether_low_or_cropped_out(toy):
    _, arr = toy[0]
    low, cropped, raised = arr.copy(), arr.copy(), _two_handed(arr)
    low.xyz[:, LEFT_WRIST, 1] = low.xyz[:, LEFT_SHOULDER, 1] + 400  # far below the rest line
    low.conf[:, LEFT_WRIST] = 1
    cropped.conf[:, LEFT_WRIST] = 0
    group = [recognize.feature_groups(a)["other_wrist"] for a in (low, cropped, raised)]
    np.testing.assert_allclose(group[0], group[1])
    assert np.abs(group[2] - group[0]).max() > 0.5


def test_extra_frames_at_the_ends_cost_less_with_psi_relaxation(toy):
    """The same sign cut with a few frames of another sign before and after (a differently cut clip)."""
    (_, a), (_, b) = toy[0], toy[1]
    query = PoseArray.concatenate([b.slice(len(b) - 3, len(b)), a, b.slice(0, 3)])
    ratio = {}
    for psi in (0, 4):
        rec = recognize.Recognizer([("A", a), ("B", b)], recognize.FeatureConfig(psi=psi))
        d = rec.distances(query)
        ratio[psi] = d[0] / d[1]
    assert ratio[4] < 0.8 * ratio[0]


def test_hand_shapes_come_from_the_frames_where_the_hand_was_seen(toy):
    """seen_only: a hand lost in the middle of a sign leaves no interpolated shape behind."""
    (_, a), (_, b) = toy[0], toy[1]
    mixed = PoseArray.concatenate([a, b, a])  # the hand turns from A to B and back
    lost = mixed.copy()
    lost.conf[len(a):len(a) + len(b), RIGHT_HAND] = 0  # the B frames are not detected
    seen = recognize.feature_groups(lost, recognize.FeatureConfig(seen_only=True))
    guessed = recognize.feature_groups(lost, recognize.FeatureConfig(seen_only=False))
    only_a = recognize.feature_groups(PoseArray.concatenate([a, a]), recognize.FeatureConfig(seen_only=True))
    for g in ("shape", "angles", "tips"):
        error = np.abs(seen[g] - only_a[g]).mean()
        assert error < 0.05 * np.abs(only_a[g] - recognize.feature_groups(b)[g]).mean(), g
        assert error < np.abs(guessed[g] - only_a[g]).mean(), g


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
    assert recognize.features(_two_handed(toy[0][1])).shape == f.shape  # absent other-hand groups are zero blocks


def test_ranking_lists_each_gloss_once_and_unknown_truths_count_as_misses(toy):
    rec = recognize.Recognizer(toy + [("A", toy[0][1])])
    match = rec.rank(toy[0][1])
    assert len(match.glosses) == len(set(match.glosses)) == len(TOY)
    assert match.rank_of("a") == 1 and match.rank_of("NOT-A-SIGN") is None
    assert recognize.top_k_accuracy([match], ["NOT-A-SIGN"], 5) == 0.0
    with pytest.raises(ValueError):
        recognize.Recognizer([])


def test_cross_signer_alphabet_beats_the_naive_recogniser(word_lexicon):
    """Embedded alphabet (one signer) among the 100 ASL-App signs (another signer), and back."""
    app_lex, emb = Lexicon(word_lexicon), Lexicon.embedded()
    app_signs = [(e.gloss, app_lex.load(e)) for e in app_lex.entries]
    alphabet = [(e.gloss, emb.load(e)) for e in emb.entries]
    letters = [(g, a) for g, a in app_signs if len(g) == 1]

    def accuracy(references, queries, k, naive=False):
        rec = recognize.Recognizer(references, naive=naive)
        return recognize.top_k_accuracy([rec.rank(q) for _, q in queries], [g for g, _ in queries], k)

    # Measured 0.96 (naive 0.15) and 0.77 (naive 0.04); the previous recogniser had 0.88 and 0.58,
    # the one before psi relaxation and the other-hand groups 0.96 and 0.69.
    robust5 = accuracy(app_signs, alphabet, 5)
    assert robust5 >= 0.85 and robust5 > accuracy(app_signs, alphabet, 5, naive=True) + 0.5
    assert accuracy(alphabet, letters, 1) >= 0.6


def test_znorm_ranks_by_how_unusual_each_group_distance_is_for_this_query(toy):
    """Standardised per query, a group's units cancel: rescaling one group changes nothing."""
    rec = recognize.Recognizer(toy, recognize.FeatureConfig(znorm=True))
    query = perturbed(_another_signer(toy[3][1]), 0.02, 0.05, 3)
    before = rec.distances(query)
    assert rec.rank(query).glosses[0] == toy[3][0]
    rec.scales["tips"] *= 10
    np.testing.assert_allclose(rec.distances(query), before)
