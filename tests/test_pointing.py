"""Built pronouns and possessives, checked by geometry: ME touches the sternum, YOU points at the viewer, HE to the side."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import make_lexicon
from text2asl.gloss_to_pose.pointing import CHEST_Z, SIGNS, sternum, two_bone_ik
from text2asl.gloss_to_pose.lexicon import Lexicon
from text2asl.pipeline import translate
from text2asl.poses.layout import BODY, LEFT_SHOULDER, RIGHT_HAND, RIGHT_SHOULDER, RIGHT_WRIST

R_ELBOW = BODY.start + 14
WRIST, INDEX_MCP, INDEX_TIP, MIDDLE_MCP, RING_MCP, PINKY_MCP = 0, 5, 8, 9, 13, 17

# Where the viewer is and where "the side" is, in the normalised frame: the viewer toward -z; the
# signing (right) hand's side is the image's left, -x.
TOWARD_VIEWER = np.array([0.0, 0.0, -1.0])
DOMINANT_SIDE = np.array([-1.0, 0.0, 0.0])
INTO_BODY = -TOWARD_VIEWER


def _unit(v):
    return v / np.linalg.norm(v)


def _geometry(xyz, conf):
    """What a viewer judges in one (543, 3) frame, from the landmarks alone."""
    hand = xyz[RIGHT_HAND].astype(np.float64)
    width = float(np.linalg.norm((xyz[LEFT_SHOULDER] - xyz[RIGHT_SHOULDER])[:2]))
    return dict(
        width=width,
        tip=hand[INDEX_TIP],
        index_dir=_unit(hand[INDEX_TIP] - hand[INDEX_MCP]),
        # for a right hand, (index knuckle - wrist) x (pinky knuckle - wrist) leaves the palm
        palm_dir=_unit(np.cross(hand[INDEX_MCP] - hand[WRIST], hand[PINKY_MCP] - hand[WRIST])),
        palm_centre=hand[[WRIST, INDEX_MCP, MIDDLE_MCP, RING_MCP, PINKY_MCP]].mean(axis=0),
        sternum=sternum(xyz, conf),
        shoulder=xyz[RIGHT_SHOULDER].astype(np.float64),
    )


def _first_and_last(text, lexicons=None):
    """Geometry of the first and last frame of each unit, taken from the final stitched stream."""
    t = translate(text, **(lexicons or {}))
    out = []
    for chunk, _ in t.chunks():
        n = chunk.meta["transition_frames"]
        end = len(chunk) - 1 - chunk.meta.get("pause_frames", 0)  # the sign's own last frame, before a pause's way to rest
        out.append((chunk.meta["label"], _geometry(chunk.xyz[n], chunk.conf[n]), _geometry(chunk.xyz[end], chunk.conf[end])))
    return t, out


def _touches_sternum(g, key):
    return np.linalg.norm(g[key] - g["sternum"]) < 0.05 * g["width"]


def _points(g, direction, cos=0.8):
    return float(g["index_dir"] @ direction) > cos


def _faces(g, direction, cos=0.8):
    return float(g["palm_dir"] @ direction) > cos


def _on_chest(g, key, side):
    """key's point on the chest surface, on the signer's right (side -1) or left (+1) of the sternum."""
    p = g[key]
    return abs(p[2] - CHEST_Z) < 0.1 * g["width"] and side * (p[0] - g["sternum"][0]) > 0.15 * g["width"]


def _out_to_the_side(g, key):
    return g[key][0] < g["shoulder"][0] - 0.5 * g["width"]


# gloss -> (what must hold at the sign's end, what must hold at its start), per the geometry
EXPECT = {
    "I": (lambda g: _touches_sternum(g, "tip") and _points(g, INTO_BODY, 0.6), None),
    "you": (lambda g: _points(g, TOWARD_VIEWER) and g["tip"][2] < -0.8 * g["width"], None),
    "he": (lambda g: _points(g, DOMINANT_SIDE) and _out_to_the_side(g, "tip"), None),
    "she": (lambda g: _points(g, DOMINANT_SIDE) and _out_to_the_side(g, "tip"), None),
    "it": (lambda g: _points(g, DOMINANT_SIDE) and _out_to_the_side(g, "tip"), None),
    "we": (lambda g: _on_chest(g, "tip", +1) and _points(g, INTO_BODY, 0.6),
           lambda g: _on_chest(g, "tip", -1) and _points(g, INTO_BODY, 0.6)),
    "they": (lambda g: _points(g, DOMINANT_SIDE) and _out_to_the_side(g, "tip"),
             lambda g: _points(g, TOWARD_VIEWER, 0.7)),
    "my": (lambda g: np.linalg.norm(g["palm_centre"] - g["sternum"]) < 0.1 * g["width"] and _faces(g, INTO_BODY), None),
    "your": (lambda g: _faces(g, TOWARD_VIEWER) and g["palm_centre"][2] < -0.8 * g["width"], None),
    "his": (lambda g: _faces(g, DOMINANT_SIDE, 0.6) and _out_to_the_side(g, "palm_centre"), None),
    "its": (lambda g: _faces(g, DOMINANT_SIDE, 0.6) and _out_to_the_side(g, "palm_centre"), None),
    "our": (lambda g: _on_chest(g, "palm_centre", +1) and _faces(g, INTO_BODY),
            lambda g: _on_chest(g, "palm_centre", -1) and _faces(g, INTO_BODY)),
    "their": (lambda g: _faces(g, DOMINANT_SIDE, 0.6) and _out_to_the_side(g, "palm_centre"),
              lambda g: _faces(g, TOWARD_VIEWER, 0.7)),
}


@pytest.fixture(params=["alphabet", "asl-app"])
def lexicons(request):
    """`translate` keywords: the alphabet alone, or the default (embedded asl-app words, then the alphabet)."""
    return {"embedded_words": False} if request.param == "alphabet" else {}


def test_every_pronoun_points_or_shows_the_palm_where_asl_puts_it(lexicons):
    words = list(EXPECT)
    t, units = _first_and_last(" ".join(words) + ".", lexicons)
    assert [c.kind for c in t.coverage] == ["built"] * len(words)
    assert len(units) == len(words)
    failed = []
    for word, (label, first, last) in zip(words, units):
        at_end, at_start = EXPECT[word]
        if not at_end(last) or (at_start is not None and not at_start(first)):
            failed.append(label)
    assert failed == []


def test_me_fingertip_ends_on_the_sternum_in_a_sentence(lexicons):
    t, units = _first_and_last("Hello, I like pizza.", lexicons)
    (label, _, last), = [u for u in units if u[0] == "ME"]
    assert np.linalg.norm(last["tip"] - last["sternum"]) < 0.05 * last["width"]
    # and not trivially: the sign starts off the chest and moves in
    (_, first, _), = [u for u in units if u[0] == "ME"]
    assert np.linalg.norm(first["tip"] - first["sternum"]) > 0.3 * first["width"]


def test_the_arm_keeps_its_bones_and_the_hand_its_shape(lexicons):
    """Bone lengths constant through each built sign, wrist joined to the hand, the handshape rigid."""
    t = translate("me you he we they my your his our their", **lexicons)
    stitcher = t._stitcher
    for unit in t.units:
        clip, _ = stitcher.unit_clip(unit)
        x = clip.xyz.astype(np.float64)
        upper = np.linalg.norm(x[:, R_ELBOW] - x[:, BODY.start + RIGHT_SHOULDER], axis=-1)
        fore = np.linalg.norm(x[:, BODY.start + RIGHT_WRIST] - x[:, R_ELBOW], axis=-1)
        assert np.ptp(upper) < 1e-4 and np.ptp(fore) < 1e-4, unit.label
        assert 0.6 < upper[0] < 1.2 and 0.5 < fore[0] < 1.1, unit.label
        assert np.allclose(x[:, BODY.start + RIGHT_WRIST], x[:, RIGHT_HAND][:, WRIST], atol=1e-5)
        a = x[:, BODY.start + RIGHT_SHOULDER] - x[:, R_ELBOW]
        b = x[:, BODY.start + RIGHT_WRIST] - x[:, R_ELBOW]
        elbow_deg = np.degrees(np.arccos(np.sum(a * b, -1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)))
        assert (elbow_deg > 25).all() and (elbow_deg < 179).all(), unit.label  # bent, never folded flat
        assert (x[:, R_ELBOW, 1] > x[:, BODY.start + RIGHT_SHOULDER, 1]).all(), unit.label  # the elbow hangs below the shoulder
        # the built hand is the lexicon's handshape, turned and moved: all its pairwise distances kept
        lex, entry = unit.items[0]
        source = stitcher.letter_clip(lex, entry)
        src = source.xyz[-1, RIGHT_HAND].astype(np.float64)
        pair = lambda h: np.linalg.norm(h[:, None] - h[None], axis=-1)
        assert np.allclose(pair(x[-1, RIGHT_HAND]), pair(src), atol=1e-4), unit.label


def test_handshapes_come_from_the_loaded_lexicons(tmp_path):
    alone = translate("I my", embedded_words=False)
    assert [c.reason for c in alone.coverage] == ["1 handshape from D (asl-alphabet (spoken-to-signed))",
                                                 "B handshape from B (asl-alphabet (spoken-to-signed))"]
    app = translate("I my")
    assert [c.reason for c in app.coverage] == ["1 handshape from ONE (asl-app, embedded)", "B handshape from B (asl-app, embedded)"]
    mine = translate("I my", lexicons=[make_lexicon(tmp_path / "mine", {"b": "b"})])
    assert [c.reason for c in mine.coverage] == ["1 handshape from ONE (asl-app, embedded)", "B handshape from B (mine)"]


def test_a_left_handed_source_lends_its_handshape_mirrored():
    from text2asl.gloss_to_pose.pointing import build_clip, handshape_from
    from text2asl.gloss_to_pose.stitch import Stitcher
    from text2asl.poses.layout import LEFT_HAND

    alphabet = Lexicon.embedded()
    right = Stitcher().letter_clip(alphabet, alphabet.find("D")[0])
    left = right.copy()
    left.xyz[:, LEFT_HAND] = right.xyz[:, RIGHT_HAND] * np.array([-1.0, 1.0, 1.0], np.float32)
    left.conf[:, LEFT_HAND], left.conf[:, RIGHT_HAND] = right.conf[:, RIGHT_HAND], 0.0
    built = build_clip("ME", handshape_from(left, "1", "D mirrored"), fps=25.0)
    g = _geometry(built.xyz[-1], built.conf[-1])
    assert np.linalg.norm(g["tip"] - g["sternum"]) < 0.05 * g["width"]
    assert (built.conf[:, LEFT_HAND] == 0).all()  # one-handed: the source's raised hand is not kept
    pair = lambda h: np.linalg.norm(h[:, None] - h[None], axis=-1)
    assert np.allclose(pair(built.xyz[-1, RIGHT_HAND]), pair(right.xyz[-1, RIGHT_HAND]), atol=1e-4)
    none = right.copy()
    none.conf[:, RIGHT_HAND] = none.conf[:, LEFT_HAND] = 0.0  # (the letter's left hand is the filled resting hand)
    assert handshape_from(none, "1", "no hand") is None


def test_a_real_recording_of_the_pronoun_wins(tmp_path):
    lex = Lexicon(make_lexicon(tmp_path / "pronouns", {"me": "m", "your": "y"}))
    t = translate("I like your pizza, my friend.", lexicons=[lex])
    kinds = {c.gloss: (c.kind, c.lexicon) for c in t.coverage}
    assert kinds["ME"] == ("lexicon", "pronouns") and kinds["YOUR"] == ("lexicon", "pronouns")
    assert kinds["MY"] == ("built", "indexing")
    assert [u.kind for u in t.units if u.label in ("ME", "YOUR")] == ["sign", "sign"]


def test_coverage_says_built_indexing_and_the_demo_spells_only_words_without_a_sign():
    t = translate("Hello, my name is Sam and I like pizza.")
    assert t.glosses == ["HELLO", "MY", "fs-NAME", "fs-SAM", "ME", "fs-LIKE", "fs-PIZZA"]
    lines = t.summary().splitlines()
    assert "built (indexing)" in lines[1] and "'my' -> MY" in lines[1]
    assert lines[-1] == "1 signed from lexicons, 2 built (indexing), 4 fingerspelled, 0 skipped"
    assert all(g[3:] not in SIGNS for g in t.glosses if g.startswith("fs-"))


def test_reflexives_are_not_pointed_at():
    """MYSELF is a different sign (the A handshape), not ME: it stays fingerspelled until a lexicon has it."""
    t = translate("I did it myself.")
    assert [c.kind for c in t.coverage if c.gloss == "MYSELF"] == ["fingerspelled"]


@settings(max_examples=200, deadline=None)
@given(
    st.tuples(*[st.floats(-2, 2)] * 3), st.tuples(*[st.floats(-3, 3)] * 3),
    st.floats(0.3, 1.5), st.floats(0.3, 1.5),
)
def test_two_bone_ik_keeps_bone_lengths_and_reaches_what_it_can(shoulder, target, upper, fore):
    s, t = np.array(shoulder), np.array(target)
    elbow, wrist = two_bone_ik(s, t, upper, fore)
    assert abs(np.linalg.norm(elbow - s) - upper) < 1e-6
    assert abs(np.linalg.norm(wrist - elbow) - fore) < 1e-6
    dist = np.linalg.norm(t - s)
    if abs(upper - fore) + 1e-3 < dist < upper + fore - 1e-3:
        assert np.linalg.norm(wrist - t) < 1e-6
    elif dist > 1e-3:  # out of reach: the wrist stops on the line toward the target
        assert np.linalg.norm(np.cross(wrist - s, t - s)) < 1e-6 * max(1.0, dist)
