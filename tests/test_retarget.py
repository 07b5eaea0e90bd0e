"""One signer across lexicons: retargeting to one head and arm, hand contacts kept, the head always drawn."""
import numpy as np
import pytest

from text2asl.gloss_to_pose.lexicon import COLUMNS, Lexicon
from text2asl.gloss_to_pose.stitch import StitchConfig
from text2asl.pipeline import translate
from text2asl.pose_to_video.render import RenderConfig, SkeletonRenderer, draw_head
from text2asl.poses.filters import fill_gaps
from text2asl.poses.layout import (
    CHIN, FACE, FACE_FEATURES, LEFT_EAR, LEFT_ELBOW, LEFT_EYE, LEFT_HIP, LEFT_SHOULDER, LEFT_WRIST, MOUTH_LEFT,
    MOUTH_RIGHT, N_POINTS, NOSE, RIGHT_EAR, RIGHT_ELBOW, RIGHT_EYE, RIGHT_HAND, RIGHT_HIP, RIGHT_SHOULDER,
    RIGHT_WRIST, THUMB_TIP, PoseArray, to_pose,
)
from text2asl.poses.normalize import normalize
from text2asl.poses.retarget import SIGNER, depth_scale, measure, retarget, two_bone_ik

SENTENCE = "Hello! My mother is tired today. Where is the bathroom? I need water, please."
SPARSE_FACE = sorted({i for line in FACE_FEATURES.values() for i in line})


def synthetic_sign(head: float, upper: float, fore: float, touch: str, depth: float = 0.0,
                   face: str = "dense", n: int = 24) -> PoseArray:
    """A sign by a made-up signer (pixels, shoulder width 200): head width `head`, arm bones `upper`
    and `fore` (shoulder widths, 3-D); the right thumb tip moves to the chin or the chest and back.

    `depth` > 0 gives the body depth, exaggerated by 1/`depth` as MediaPipe's is; 0 makes it flat.
    `face` is "dense" (the whole mesh), "sparse" (the feature points only) or "none".
    """
    sw, origin = 200.0, np.array([256.0, 220.0, 0.0])
    xyz = np.zeros((n, N_POINTS, 3), np.float32)
    conf = np.zeros((n, N_POINTS), np.float32)

    def put(index, p, t=slice(None)):
        xyz[t, index] = origin + np.asarray(p, np.float32) * sw
        conf[t, index] = 1.0

    ear_y = -0.55
    mouth_y, chin_y = ear_y + 0.5 * head, ear_y + 0.82 * head
    put(LEFT_SHOULDER, (0.5, 0, 0)), put(RIGHT_SHOULDER, (-0.5, 0, 0))
    put(LEFT_HIP, (0.4, 1.6, 0)), put(RIGHT_HIP, (-0.4, 1.6, 0))
    put(LEFT_EAR, (head / 2, ear_y, 0)), put(RIGHT_EAR, (-head / 2, ear_y, 0))
    put(LEFT_EYE, (0.27 * head, ear_y - 0.05 * head, 0)), put(RIGHT_EYE, (-0.27 * head, ear_y - 0.05 * head, 0))
    put(NOSE, (0, ear_y + 0.1 * head, 0))
    put(MOUTH_LEFT, (0.12 * head, mouth_y, 0)), put(MOUTH_RIGHT, (-0.12 * head, mouth_y, 0))
    if face != "none":
        rng = np.random.default_rng(0)
        mesh = np.c_[rng.uniform(-0.5, 0.5, 468) * head, ear_y + rng.uniform(-0.6, 0.8, 468) * head, np.zeros(468)]
        mesh[CHIN] = (0, chin_y, 0)
        # The mesh's nose tip, eye corners and mouth corners lie on the body's (as a real face's do).
        mesh[1] = (0, ear_y + 0.1 * head, 0)
        for i, x in ((33, -0.37), (133, -0.17), (362, 0.17), (263, 0.37)):
            mesh[i] = (x * head, ear_y - 0.05 * head, 0)
        mesh[61], mesh[291] = (-0.12 * head, mouth_y, 0), (0.12 * head, mouth_y, 0)
        keep = np.arange(468) if face == "dense" else np.asarray(SPARSE_FACE)
        for i in keep:
            put(FACE.start + i, mesh[i])
    # Left arm hangs at rest; the right thumb goes from the side to the target, holds, and returns.
    put(LEFT_ELBOW, (0.55, upper, 0)), put(LEFT_WRIST, (0.55, upper + fore, 0))
    target = np.array([0.0, chin_y] if touch == "chin" else [-0.1, 0.5])
    start = np.array([-0.7, 0.7])
    s = np.clip(np.r_[np.linspace(0, 1, n // 3), np.ones(n - 2 * (n // 3)), np.linspace(1, 0, n // 3)], 0, 1)
    tips = start + s[:, None] * (target - start)
    shoulder = np.array([[-0.5, 0.0, 0.0]])
    for t, tip in enumerate(tips):
        wrist = np.r_[tip + (-0.12, 0.18), -0.25]  # in front of the body
        elbow = two_bone_ik(shoulder, shoulder + (0, 1, 0), wrist[None], upper, fore)[0]
        scale_z = np.array([1, 1, 1 / depth if depth else 0])
        put(RIGHT_ELBOW, elbow * scale_z, t), put(RIGHT_WRIST, wrist * scale_z, t)
        for j in range(21):  # the hand: a fan from the wrist, the thumb tip on the target
            f = j / 20
            put(RIGHT_HAND.start + j, np.r_[wrist[:2] + f * (tip - wrist[:2]) + (0.03 * np.sin(j), 0), 0], t)
        put(RIGHT_HAND.start + THUMB_TIP, np.r_[tip, 0], t)
    return PoseArray(xyz, conf, 25.0, (512, 512))


def write_lexicon(folder, signs: dict[str, PoseArray]):
    folder.mkdir(parents=True, exist_ok=True)
    rows = [",".join(COLUMNS)]
    for gloss, arr in signs.items():
        with open(folder / f"{gloss.lower()}.pose", "wb") as fh:
            to_pose(arr).write(fh)
        rows.append(f"{gloss.lower()}.pose,en,ase,0,0,{gloss.lower()},{gloss},0")
    (folder / "index.csv").write_text("\n".join(rows) + "\n")
    return folder


def own_frames(translation):
    """(label, the unit's own frames without the transition into it nor a pause after it, as a normalised PoseArray) per unit."""
    for chunk, _ in translation.chunks():
        own = chunk.slice(chunk.meta["transition_frames"], len(chunk) - chunk.meta.get("pause_frames", 0))
        own.meta["normalized"] = True
        yield chunk.meta["label"], own


def thumb_to_chin(arr: PoseArray) -> float:
    """Closest approach of the right thumb tip to the chin, in shoulder widths."""
    tip, chin = arr.xyz[:, RIGHT_HAND.start + THUMB_TIP, :2], arr.xyz[:, FACE.start + CHIN, :2]
    ok = (arr.conf[:, RIGHT_HAND.start + THUMB_TIP] > 0) & (arr.conf[:, FACE.start + CHIN] > 0)
    assert ok.any()
    return float(np.linalg.norm(tip - chin, axis=1)[ok].min())


def head_spread(translation) -> tuple[float, float]:
    """(lowest, highest) per-sign head width over the units of the final stream."""
    heads = [measure(arr).head for _, arr in own_frames(translation)]
    return min(heads), max(heads)


def test_depth_scale_finds_how_much_the_depth_is_exaggerated():
    for k in (0.25, 0.4, 1.0):
        arr = normalize(synthetic_sign(0.38, 0.9, 0.8, "chest", depth=k))
        assert depth_scale(arr) == pytest.approx(k, abs=0.05)
        assert measure(arr).upper_arm == pytest.approx(0.9, abs=0.02)
    assert depth_scale(normalize(synthetic_sign(0.38, 0.9, 0.8, "chest"))) == 0.0


def test_two_bone_ik_gives_the_bone_lengths_keeps_the_wrist_and_the_side_of_the_bend():
    rng = np.random.default_rng(1)
    shoulder = rng.normal(size=(200, 3))
    wrist = shoulder + rng.normal(size=(200, 3)) * 0.5
    wrist = shoulder + (wrist - shoulder) * np.clip(1.5 / np.linalg.norm(wrist - shoulder, axis=1, keepdims=True), 0, 1)
    hint = shoulder + rng.normal(size=(200, 3))
    elbow = two_bone_ik(shoulder, hint, wrist, 0.9, 0.8)
    assert np.allclose(np.linalg.norm(elbow - shoulder, axis=1), 0.9, atol=1e-6)
    reach = np.linalg.norm(wrist - shoulder, axis=1) > 0.1 + 1e-3
    assert np.allclose(np.linalg.norm(wrist - elbow, axis=1)[reach], 0.8, atol=1e-6)
    axis = (wrist - shoulder) / np.linalg.norm(wrist - shoulder, axis=1, keepdims=True)

    def side(p):
        v = p - shoulder
        return v - (v * axis).sum(1, keepdims=True) * axis

    assert ((side(elbow) * side(hint)).sum(1) >= -1e-9).all()


def test_retarget_needs_a_normalised_sign():
    with pytest.raises(ValueError, match="normalised"):
        retarget(synthetic_sign(0.38, 0.9, 0.8, "chin"))


def test_synthetic_mixed_signers_become_one_body_and_keep_the_chin_contact(tmp_path):
    small = synthetic_sign(0.30, 1.05, 0.95, "chin", depth=0.4, face="sparse")
    big = synthetic_sign(0.46, 0.80, 0.70, "chest", face="dense")
    lexicon = write_lexicon(tmp_path / "lex", {"SMALLHEAD": small, "BIGHEAD": big})
    glosses = "SMALLHEAD BIGHEAD fs-AB SMALLHEAD"
    before = translate(glosses=glosses, lexicons=[lexicon], config=StitchConfig(retarget=False))
    after = translate(glosses=glosses, lexicons=[lexicon])
    lo, hi = head_spread(before)
    assert hi - lo > 0.1  # the made-up signers differ, so the test can fail
    lo, hi = head_spread(after)
    assert hi - lo < 0.01 and lo == pytest.approx(SIGNER.head, abs=0.01)
    for label, arr in own_frames(after):
        m = measure(arr)
        assert m.upper_arm == pytest.approx(SIGNER.upper_arm, abs=0.02), label
        assert m.forearm == pytest.approx(SIGNER.forearm, abs=0.02), label
    sequence = after.sequence()
    assert ((sequence.conf[:, LEFT_EAR] > 0) & (sequence.conf[:, RIGHT_EAR] > 0)).all()
    source = thumb_to_chin(fill_gaps(normalize(small)))
    assert source < 1e-3
    for label, arr in own_frames(after):
        if label == "SMALLHEAD":
            assert thumb_to_chin(arr) < 0.02


def test_sparse_and_dense_faces_are_drawn_alike_and_a_head_without_a_face_mesh_still_shows():
    renderer = SkeletonRenderer(RenderConfig(size=256, caption=False, hands_inset=False))
    dense, sparse, bare = (normalize(synthetic_sign(0.38, 0.9, 0.8, "chest", face=f)) for f in ("dense", "sparse", "none"))
    images = [renderer.frame(a.xyz[0], a.conf[0]) for a in (dense, sparse, bare)]
    assert np.array_equal(images[0], images[1])
    top, bottom = renderer.to_pixels(np.array([[0, -0.9], [0, -0.1]]))[:, 1].astype(int)
    ink = [(img[top:bottom] < 200).any(axis=-1).sum() for img in images]
    assert ink[2] > 0.5 * ink[0]  # outline and stand-in features, not a few dashes
    blank = np.zeros_like(images[0])
    assert draw_head(blank, renderer.to_pixels(bare.xyz[0]), np.zeros(N_POINTS)).sum() == 0


@pytest.mark.shared_data
def test_mixed_lexicon_sentence_has_one_head_size_and_mother_keeps_its_chin_contact(word_lexicon):
    before = translate(SENTENCE, lexicons=[word_lexicon], config=StitchConfig(retarget=False))
    after = translate(SENTENCE, lexicons=[word_lexicon])
    assert sum(c.kind == "lexicon" for c in after.coverage) >= 8
    lo, hi = head_spread(before)
    assert hi / lo > 1.1
    spread_before = hi / lo - 1
    lo, hi = head_spread(after)
    # A sign held on one frame (a letter, a built pronoun) shows that frame's head turn, not the median.
    assert hi / lo - 1 < min(0.05, spread_before / 4)
    arms_before, arms_after = (np.array([[measure(a).upper_arm, measure(a).forearm] for _, a in own_frames(t)])
                               for t in (before, after))
    assert (np.ptp(arms_after, axis=0) < 0.5 * np.ptp(arms_before, axis=0)).all()
    sequence = after.sequence()
    assert ((sequence.conf[:, LEFT_EAR] > 0) & (sequence.conf[:, RIGHT_EAR] > 0)).all()
    mother = {label: arr for label, arr in own_frames(before)}["MOTHER"]
    contact = thumb_to_chin(mother)
    assert contact < 0.05  # the source touches the chin
    assert thumb_to_chin({label: arr for label, arr in own_frames(after)}["MOTHER"]) < contact + 0.01


@pytest.mark.shared_data
def test_the_one_signer_is_the_median_asl_app_signer(word_lexicon):
    lex = Lexicon(word_lexicon)
    m = np.array([[p.head, p.upper_arm, p.forearm] for p in (measure(fill_gaps(normalize(lex.load(e)))) for e in lex.entries)])
    assert np.nanmedian(m, axis=0) == pytest.approx([SIGNER.head, SIGNER.upper_arm, SIGNER.forearm], abs=0.01)


def test_mixed_lexicon_sheet_is_skipped_without_the_data(tmp_path, monkeypatch):
    from text2asl import figures

    monkeypatch.setenv("TEXT2ASL_SHARED_DATA", str(tmp_path))
    assert figures.mixed_lexicon_sheet(tmp_path / "sheet.png") is None
    assert not (tmp_path / "sheet.png").exists()
    assert figures.main(["mixed_lexicon_sheet.png", "-o", str(tmp_path)]) == 0


@pytest.mark.shared_data
def test_mixed_lexicon_sheet_shows_one_frame_per_sign(asl_app_lexicon, tmp_path):
    import imageio.v3 as iio

    from text2asl import figures

    n_units = len(translate(figures.MIXED_LEXICON_TEXT, lexicons=[asl_app_lexicon]).units)
    sheet = iio.imread(figures.mixed_lexicon_sheet(tmp_path / "sheet.png"))
    rows = -(-n_units // 6)
    assert sheet.shape[:2] == (rows * 224 + (rows - 1) * 4, 6 * 224 + 5 * 4)


def test_the_renderer_keeps_one_head_size_as_the_head_turns():
    renderer = SkeletonRenderer(RenderConfig(size=256, caption=False, hands_inset=False))
    frontal, turned = (normalize(synthetic_sign(h, 0.9, 0.8, "chest", face="none")) for h in (0.38, 0.30))
    for arr in (frontal, turned):  # only the ears: the outline alone
        arr.conf[:, :LEFT_EAR] = 0
        arr.conf[:, LEFT_EAR + 2 : RIGHT_HAND.start] = 0
    a, b = (renderer.frame(arr.xyz[0], arr.conf[0]) for arr in (frontal, turned))
    assert (a != b).any(axis=-1).mean() < 1e-3
    blank = np.full_like(a, 255)
    xy = renderer.to_pixels(turned.xyz[0])
    narrow = draw_head(blank.copy(), xy, turned.conf[0])  # without a width: as wide as the ears
    assert (narrow != a).any(axis=-1).mean() > 1e-3
