"""Non-manual markers: spans from the glosser, and brows and head on the output pose, tested by geometry."""
import numpy as np
import pytest

from text2asl.gloss_to_pose.lookup import TokenCoverage
from text2asl.gloss_to_pose.nonmanual import MarkerConfig, carried_by_face, unit_spans
from text2asl.pipeline import save, translate
from text2asl.poses.face import brow_height, head_turn
from text2asl.poses.layout import FACE, read_pose_file
from text2asl.text_to_gloss import Span, text_to_gloss
from text2asl.text_to_gloss.nonmanual import overline


@pytest.mark.parametrize("text, glosses, spans", [
    ("Your mother is tired.", "YOUR MOTHER TIRED", []),
    ("Is your mother tired?", "YOUR MOTHER TIRED", [("q", 0, 3)]),
    ("Why is your mother tired?", "YOUR MOTHER TIRED WHY", [("whq", 0, 4)]),
    ("What is your name?", "YOUR NAME WHAT", [("whq", 0, 3)]),
    ("Your mother is not tired.", "YOUR MOTHER NOT TIRED", [("neg", 2, 4)]),
    ("I never eat fish.", "ME NEVER EAT FISH", [("neg", 1, 4)]),
    ("She can't swim.", "SHE CAN NOT SWIM", [("neg", 2, 4)]),
    ("Tomorrow, will you go to school?", "TOMORROW WILL YOU GO SCHOOL", [("t", 0, 1), ("q", 1, 5)]),
    ("I will eat tomorrow.", "TOMORROW ME WILL EAT", [("t", 0, 1)]),
    ("Are you not hungry? Hello.", "YOU NOT HUNGRY HELLO", [("q", 0, 3), ("neg", 1, 3)]),
    ("Today?", "TODAY", [("q", 0, 1)]),
    ("Why is she not here?", "SHE NOT HERE WHY", [("whq", 0, 4), ("neg", 1, 3)]),
    ("She is not tired, you are.", "SHE NOT TIRED YOU", [("neg", 1, 3)]),
])
def test_the_glosser_emits_spans_for_each_sentence_type(text, glosses, spans):
    result = text_to_gloss(text)
    assert " ".join(result.glosses) == glosses
    assert [(s.marker, s.start, s.stop) for s in result.nonmanual] == spans


def test_the_printed_gloss_draws_a_labelled_line_over_the_covered_glosses():
    assert text_to_gloss("Is your mother tired?").annotated() == "________________q\nYOUR MOTHER TIRED"
    lines = text_to_gloss("Are you not hungry?").annotated().splitlines()
    assert lines == ["_____________q", "    _______neg", "YOU NOT HUNGRY"]
    assert overline(["HELLO"], []) == "HELLO"


def test_not_is_left_to_the_head_shake_unless_a_lexicon_signs_it():
    glosses = ["ME", "NOT", "TIRED"]
    spans = [Span("neg", 1, 3)]
    assert carried_by_face(glosses, spans, lambda g: False) == ([0, 2], [Span("neg", 1, 2)])
    assert carried_by_face(glosses, spans, lambda g: g == "NOT") == ([0, 1, 2], spans)
    assert carried_by_face(["ME", "NOT"], [Span("neg", 1, 2)], lambda g: False)[0] == [0, 1]  # nothing after it


def test_unit_spans_follow_multi_gloss_signs_and_skipped_glosses():
    coverage = [TokenCoverage("THANK YOU", "thank you", "lexicon", "THANK-YOU"),
                TokenCoverage("@", "@", "skipped", ""), TokenCoverage("fs-SAM", "Sam", "fingerspelled", "fs-SAM")]
    assert unit_spans([Span("q", 0, 4)], coverage) == [Span("q", 0, 2)]
    assert unit_spans([Span("neg", 2, 3)], coverage) == []
    assert unit_spans([Span("t", 3, 4)], coverage) == [Span("t", 1, 2)]


def lexicon_options(lexicon: str, request) -> dict:
    """translate() options: the asl-app folder, the package's default (embedded words), or the alphabet alone."""
    if lexicon == "asl-app":
        return {"lexicons": [request.getfixturevalue("asl_app_lexicon")]}
    return {} if lexicon == "embedded" else {"embedded_words": False}


def own_frames(translation) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{unit label: (xyz, conf) of its own frames, without the transition into it}."""
    out = {}
    for chunk, _ in translation.chunks():
        n = chunk.meta["transition_frames"]
        out[chunk.meta["label"]] = (chunk.xyz[n:], chunk.conf[n:])
    return out


def brows(translation) -> dict[str, float]:
    return {label: float(np.nanmedian(brow_height(*frames))) for label, frames in own_frames(translation).items()}


@pytest.mark.parametrize("lexicon", ["asl-app", "embedded", "alphabet"])
def test_questions_raise_or_lower_the_brows_over_the_same_signs(lexicon, request):
    options = lexicon_options(lexicon, request)
    statement = brows(translate("Your mother is tired.", **options))
    question = brows(translate("Is your mother tired?", **options))
    wh = brows(translate("Why is your mother tired?", **options))
    raise_, lower = MarkerConfig().brow_raise, MarkerConfig().brow_lower
    assert question.keys() == statement.keys() and len(statement) == 3
    for label in statement:
        assert question[label] > statement[label] + 0.6 * raise_, label
        assert wh[label] < statement[label] - 0.6 * lower, label


@pytest.mark.parametrize("lexicon, tired", [("asl-app", "TIRED"), ("embedded", "TIRED"), ("alphabet", "fs-TIRED")])
def test_not_tired_shakes_the_head_and_the_statement_does_not(lexicon, tired, request):
    options = lexicon_options(lexicon, request)
    statement = translate("Your mother is tired.", **options)
    negated = translate("Your mother is not tired.", **options)
    assert negated.glosses == statement.glosses  # NOT is carried by the head shake
    a, b = statement.sequence(), negated.sequence()
    assert len(a) == len(b)
    again = translate("Your mother is tired.", **options).sequence()
    assert np.array_equal(head_turn(a.xyz, a.conf), head_turn(again.xyz, again.conf))  # no shake without neg
    turn = head_turn(b.xyz, b.conf) - head_turn(a.xyz, a.conf)
    tired = own_frames(negated)[tired][0]
    shake = turn[-len(tired):]
    assert np.abs(shake).max() > 0.1  # 15 degrees: the nose swings ~0.13 ear widths each way
    moving = shake[np.abs(shake) > 0.02]
    assert (np.diff(np.sign(moving)) != 0).sum() >= 4  # at least two full cycles
    into_tired = len(list(negated.chunks())[-1][0])  # TIRED and the transition into it (where the shake eases in)
    assert np.abs(turn[: len(turn) - into_tired]).max() < 1e-6  # YOUR MOTHER do not shake


def test_angrys_frown_stays_under_a_question(asl_app_lexicon):
    statement = brows(translate("You are angry.", lexicons=[asl_app_lexicon]))
    question = brows(translate("Are you angry?", lexicons=[asl_app_lexicon]))
    assert question["ANGRY"] == pytest.approx(statement["ANGRY"] + MarkerConfig().brow_raise, abs=0.05)
    assert question["ANGRY"] < question["YOU"] - 0.2  # still a frown next to the raised neutral brows


def test_markers_are_in_the_pose_output_and_every_frame_has_a_face(tmp_path, asl_app_lexicon):
    heights = {}
    for name, text in (("statement", "Why is your mother tired"), ("question", "Why is your mother tired?")):
        arr = read_pose_file(save(translate(text, lexicons=[asl_app_lexicon]), tmp_path / f"{name}.pose"))
        assert (arr.conf[:, FACE.start + 1] > 0).all()
        heights[name] = np.nanmedian(brow_height(arr.xyz, arr.conf))
    assert heights["question"] < heights["statement"] - 0.15


def test_markers_can_be_turned_off():
    off = translate("Is she not tired?", nonmanual=False)
    assert off.nonmanual == [] and "fs-NOT" in off.glosses
    on = translate("Is she not tired?")
    assert {s.marker for s in on.nonmanual} == {"q", "neg"} and "fs-NOT" not in on.glosses


def test_the_face_inset_shows_raised_and_lowered_brows_apart_and_can_be_turned_off():
    from text2asl.pose_to_video.render import RenderConfig, SkeletonRenderer

    frames = {}
    for name, text in (("q", "Is Sam tired?"), ("whq", "Why is Sam tired?")):
        t = translate(text)
        chunk, _ = next(iter(t.chunks()))
        frames[name] = chunk.xyz[len(chunk) // 2], chunk.conf[len(chunk) // 2]
    on, off = SkeletonRenderer(RenderConfig(size=512)), SkeletonRenderer(RenderConfig(size=512, face_inset=False))
    x, y, s = on._face_inset
    inset = lambda r, f: r.frame(*f)[y + 1 : y + s, x + 1 : x + s].astype(int)
    differ = (np.abs(inset(on, frames["q"]) - inset(on, frames["whq"])).sum(-1) > 100).sum()
    assert differ > 100  # the two brows are pixels apart in the inset, not one anti-aliased edge
    assert (inset(off, frames["q"]) == 255).all()


def test_nonmanual_figure_shows_the_three_sentence_types(tmp_path):
    import imageio.v3 as iio

    from text2asl import figures

    out = figures.main(["nonmanual_faces.png", "-o", str(tmp_path)])
    image = iio.imread(tmp_path / "nonmanual_faces.png")
    assert out == 0 and image.shape[1] > 2 * image.shape[0] * 0.6


def test_translate_prints_the_marker_lines_over_the_gloss(tmp_path, capsys):
    from text2asl.cli import main

    assert main(["translate", "Is she not tired?", "-o", str(tmp_path / "q.pose"), "--no-face-inset"]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("gloss:"))
    assert lines[at - 2 : at + 2] == ["        ____________q", "            ______neg", "gloss:  SHE NOT TIRED",
                                      "signed: SHE TIRED"]


def test_the_diffusion_renderer_signs_not_since_it_draws_no_face(tmp_path, monkeypatch, capsys):
    import text2asl.diffusion.generate as generate
    from text2asl.cli import main

    asked = []

    def fake_render(glosses, *args, **kw):  # the real one needs a trained base; only the glosses matter here
        asked.append(list(glosses))
        return iter([np.zeros((32, 32, 3), np.uint8)] * 4)

    monkeypatch.setattr(generate, "render_glosses", fake_render)
    assert main(["translate", "She is not tired.", "--renderer", "diffusion", "-o", str(tmp_path / "d.mp4"), "-q"]) == 0
    assert len(asked) == 1 and any(g in ("NOT", "fs-NOT") for g in asked[0])  # as a gloss or spelled, not dropped
