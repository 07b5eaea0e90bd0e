"""Skeleton frames: body, both hands in distinct colours and the head, drawn with OpenCV.

Two entry points: `SkeletonRenderer` draws normalised sequences (shoulder units) on a fixed canvas
with an optional caption (the gloss, or a `Caption`: the English sentence with the word being signed
highlighted), magnified-hand insets and a magnified-face inset (non-manual markers: brows and head
shake); `draw_skeleton` draws pixel-space
landmarks on any image (overlays on the source video, with the full face-mesh contour).

The renderer draws the head with `draw_head`: an outline from the body's ears and eyes, which every
lexicon has, and the facial features from whatever face points exist, so a sign recorded with a
sparse face and one with a dense face mesh look like the same person.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import numpy as np

from text2asl.poses.layout import (
    BODY, CHIN, FACE, FACE_FEATURES, LEFT_EAR, LEFT_EYE, LEFT_HAND, MOUTH_LEFT, MOUTH_RIGHT, NOSE, RIGHT_EAR, RIGHT_EYE,
    RIGHT_HAND, PoseArray,
)
from text2asl.poses.retarget import SIGNER

# MediaPipe's pose/hand/face-contour connections, as index pairs within each component
# (checked against mediapipe.solutions in tests; copied so rendering never imports mediapipe).
BODY_EDGES = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24),
    (15, 17), (15, 19), (17, 19), (15, 21), (16, 18), (16, 20), (18, 20), (16, 22),
)
HAND_EDGES = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11),
    (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19), (19, 20),
)
FACE_CONTOUR_EDGES = (
    (0, 267), (7, 163), (10, 338), (13, 312), (14, 317), (17, 314), (21, 54), (33, 7), (33, 246),
    (37, 0), (39, 37), (40, 39), (46, 53), (52, 65), (53, 52), (54, 103), (58, 132), (61, 146),
    (61, 185), (63, 105), (65, 55), (66, 107), (67, 109), (70, 63), (78, 95), (78, 191), (80, 81),
    (81, 82), (82, 13), (84, 17), (87, 14), (88, 178), (91, 181), (93, 234), (95, 88), (103, 67),
    (105, 66), (109, 10), (127, 162), (132, 93), (136, 172), (144, 145), (145, 153), (146, 91),
    (148, 176), (149, 150), (150, 136), (152, 148), (153, 154), (154, 155), (155, 133), (157, 173),
    (158, 157), (159, 158), (160, 159), (161, 160), (162, 21), (163, 144), (172, 58), (173, 133),
    (176, 149), (178, 87), (181, 84), (185, 40), (191, 80), (234, 127), (246, 161), (249, 390),
    (251, 389), (263, 249), (263, 466), (267, 269), (269, 270), (270, 409), (276, 283), (282, 295),
    (283, 282), (284, 251), (288, 397), (293, 334), (295, 285), (296, 336), (297, 332), (300, 293),
    (310, 415), (311, 310), (312, 311), (314, 405), (317, 402), (318, 324), (321, 375), (323, 361),
    (324, 308), (332, 284), (334, 296), (338, 297), (356, 454), (361, 288), (365, 379), (373, 374),
    (374, 380), (375, 291), (377, 152), (378, 400), (379, 378), (380, 381), (381, 382), (382, 362),
    (384, 398), (385, 384), (386, 385), (387, 386), (388, 387), (389, 356), (390, 373), (397, 365),
    (398, 362), (400, 377), (402, 318), (405, 321), (409, 291), (415, 308), (454, 323), (466, 388),
)

# RGB. The signer's right hand (image left, usually dominant) warm, the left hand cool.
BODY_COLOR = (70, 70, 80)
FACE_COLOR = (150, 150, 160)
RIGHT_HAND_COLOR = (225, 80, 30)
LEFT_HAND_COLOR = (30, 110, 225)
_SHIFT = 4  # sub-pixel bits for cv2 drawing


# The head in ear-to-ear widths, measured on the embedded alphabet's dense faces: the face is 1.2
# ear widths wide, the chin 0.82 below the ears and the crown about 0.9 above; the eyes are 0.54
# apart (the head's size when the ears are not seen) and 0.23 wide, the brows 0.37 long and 0.21
# above the eyes. The sizes draw the features the face mesh lacks in a frame from body points.
HEAD_HALF_WIDTH, HEAD_HALF_HEIGHT, HEAD_CENTRE_UP = 0.6, 0.86, 0.04
EYES_APART, EYE_WIDTH, BROW_LENGTH, BROW_ABOVE_EYE, NOSE_LENGTH = 0.54, 0.23, 0.37, 0.21, 0.06
CHIN_MARGIN, MAX_CHIN_EXTRA = 0.04, 0.3  # ear widths: room below the chin; the most the outline grows for it
_CHIN = FACE.start + CHIN
TURN_FOLLOW = 0.4  # how far the outline follows the nose across the head when it turns
_FACE_FEATURES = {name: np.asarray(idx) + FACE.start for name, idx in FACE_FEATURES.items()}
_FEATURE_COLS = np.unique(np.concatenate(list(_FACE_FEATURES.values())))
_FEATURE_ORDER = np.concatenate(list(_FACE_FEATURES.values()))  # every feature's points, one after another


def _bounds(lengths) -> list[tuple[int, int]]:
    """(start, end) of consecutive runs of `lengths`."""
    ends = np.cumsum(lengths).tolist()
    return list(zip([0, *ends[:-1]], ends))


_FEATURE_BOUNDS = _bounds([len(idx) for idx in _FACE_FEATURES.values()])
# Corners of the head's outline: within 0.13 px of the ellipse even in the face inset (half-height ~60 px).
OUTLINE_POINTS = 48
_UNIT_CIRCLE = np.stack([np.cos(a := np.linspace(0, 2 * np.pi, OUTLINE_POINTS, endpoint=False)), np.sin(a)], axis=1)


class _Edges:
    """A skeleton's edges as (E, 2) point indices, and the same edges as chains (paths through shared
    points) for frames where all its points are present: a thick line per chain joins its segments
    with one round cap where separate segments draw two (with the one-call joint dots and the outline
    polygon, frames are drawn 20 % quicker; the same picture, AA edges at some joints aside)."""

    def __init__(self, edges: Sequence[tuple[int, int]], start: int = 0):
        self.pairs = np.asarray(edges, np.int64) + start
        self.points = np.unique(self.pairs)
        chains = _chains(edges)
        # All chains' points in one index array (one gather a frame), and each chain's slice of it
        self.order = np.concatenate(chains).astype(np.int64) + start
        self.bounds = _bounds([len(c) for c in chains])


def _chains(edges: Sequence[tuple[int, int]]) -> list[list[int]]:
    """Paths covering every edge once, each as long as greedy walking makes it."""
    left = list(edges)
    chains = []
    while left:
        chain = list(left.pop(0))
        grown = True
        while grown:
            grown = False
            for i, (a, b) in enumerate(left):
                if a == chain[-1] or b == chain[-1]:
                    chain.append(b if a == chain[-1] else a)
                elif a == chain[0] or b == chain[0]:
                    chain.insert(0, b if a == chain[0] else a)
                else:
                    continue
                del left[i]
                grown = True
                break
        chains.append(chain)
    return chains


_HAND_EDGES = _Edges(HAND_EDGES)
_FACE_LAYER = (_Edges(FACE_CONTOUR_EDGES, FACE.start), FACE_COLOR, 0.5, False)
_LAYERS = (  # (edges in canonical indices, colour, thickness factor, joint dots), back to front
    (_Edges(BODY_EDGES, BODY.start), BODY_COLOR, 1.5, False),
    (_Edges(HAND_EDGES, LEFT_HAND.start), LEFT_HAND_COLOR, 1.0, True),
    (_Edges(HAND_EDGES, RIGHT_HAND.start), RIGHT_HAND_COLOR, 1.0, True),
)


def draw_skeleton(image: np.ndarray, xy: np.ndarray, conf: np.ndarray, thickness: int = 2, face: bool = True,
                  joints: bool = True) -> np.ndarray:
    """Draw landmarks on `image` in place and return it.

    image: (H, W, 3) uint8 RGB; xy: (543, 2+) pixel coordinates; conf: (543,) (0 = missing).
    An edge is drawn only when both of its points are present; `joints` adds dots on hand joints.
    """
    pts = np.round(np.asarray(xy)[:, :2] * (1 << _SHIFT)).astype(np.int32)
    _draw_layers(image, pts, np.asarray(conf) > 0, thickness, face, joints)
    return image


def _draw_layers(image: np.ndarray, pts: np.ndarray, present: np.ndarray, thickness: int, face: bool, joints: bool) -> None:
    """`draw_skeleton` with the points already in fixed-point pixels and `present` worked out."""
    for edges, color, factor, dots in ((_FACE_LAYER,) if face else ()) + _LAYERS:
        _draw_edges(image, pts, present, edges, color, max(1, int(round(thickness * factor))), dots and joints)


def _draw_edges(image: np.ndarray, pts: np.ndarray, present: np.ndarray, edges: _Edges, color, thickness: int,
                dots: bool) -> None:
    """Draw the `edges` whose two points are `present`; `pts` in fixed-point pixels."""
    import cv2

    if present[edges.points].all():
        chained = pts[edges.order]
        lines, joints = [chained[a:b] for a, b in edges.bounds], edges.points
    else:
        pairs = edges.pairs
        ok = present[pairs[:, 0]] & present[pairs[:, 1]]
        if not ok.any():
            return
        lines, joints = list(pts[pairs[ok]]), np.unique(pairs[ok])
    cv2.polylines(image, lines, False, color, thickness, cv2.LINE_AA, _SHIFT)
    if dots:  # a closed one-point line is a round dot: all of them in one call
        cv2.polylines(image, list(pts[joints, None]), True, color, 2 * thickness, cv2.LINE_AA, _SHIFT)


def _stand_in_features(xy: np.ndarray, present: np.ndarray, across: np.ndarray, up: np.ndarray, width: float) -> dict:
    """Polylines (pixels) for brows, eyes, nose and mouth from the body's eye, nose and mouth points."""
    out = {}
    for side, eye in (("right", RIGHT_EYE), ("left", LEFT_EYE)):
        if present[eye]:
            c = xy[eye]
            out[f"{side}_eye"] = np.stack([c - across * EYE_WIDTH * width / 2, c + across * EYE_WIDTH * width / 2])
            b = c + up * BROW_ABOVE_EYE * width
            out[f"{side}_brow"] = np.stack([b - across * BROW_LENGTH * width / 2, b + across * BROW_LENGTH * width / 2])
    if present[NOSE]:
        out["nose"] = np.stack([xy[NOSE] + up * NOSE_LENGTH * width, xy[NOSE]])
    if present[MOUTH_RIGHT] and present[MOUTH_LEFT]:
        out["mouth"] = xy[[MOUTH_RIGHT, MOUTH_LEFT]]
    return out


def draw_head(image: np.ndarray, xy: np.ndarray, conf: np.ndarray, thickness: int = 2,
              width: float | None = None) -> np.ndarray:
    """Draw the head in place and return `image` (same arguments as `draw_skeleton`).

    The outline is an oval placed and tilted by the ears (or, without them, the eyes), `width`
    pixels from ear to ear (default: as far apart as the ears are in this frame, which narrows as
    the head turns). Brows, eyes, nose, mouth and chin are polylines through `FACE_FEATURES` where
    the face mesh has them; where it does not, short strokes at the body's eye, nose and mouth
    points stand in, in the same style.
    """
    head = head_lines(xy, np.asarray(conf) > 0, width)
    if head is not None:
        _draw_head_lines(image, head, 1.0, (0.0, 0.0), thickness)
    return image


def head_lines(xy: np.ndarray, present: np.ndarray, width: float | None = None):
    """`draw_head`'s lines in the units of `xy` (any: pixels, shoulder units), or None when the head
    cannot be placed: (outline, points, bounds), the closed outline's corners, the features' points
    one feature after another, and each feature's (start, end) in them. The renderer works them
    out once a frame and draws them twice (the head, and the magnified face inset), each through
    its own scale and offset.
    """
    xy = np.asarray(xy, np.float64)[:, :2]
    if present[LEFT_EAR] and present[RIGHT_EAR]:
        left, right, per_width = xy[LEFT_EAR], xy[RIGHT_EAR], 1.0
    elif present[LEFT_EYE] and present[RIGHT_EYE]:
        left, right, per_width = xy[LEFT_EYE], xy[RIGHT_EYE], EYES_APART
    else:
        return None
    span = float(np.linalg.norm(left - right))
    if span < 1e-6:
        return None
    width = width if width is not None else span / per_width
    across = (left - right) / span  # the signer's right ear shows on the image's left
    up = np.array([across[1], -across[0]])  # image y points down
    centre = (left + right) / 2 + up * HEAD_CENTRE_UP * width
    if present[NOSE] and per_width == 1.0:
        # A turned head (or a shake) carries the skull a little toward where the nose went, so
        # the features stay inside the outline; the ears alone would leave them at its edge.
        centre = centre + across * TURN_FOLLOW * float(np.dot(xy[NOSE] - (left + right) / 2, across))
    half_height = HEAD_HALF_HEIGHT
    if present[_CHIN]:  # a long face: the outline reaches down to its chin (the crown stays)
        below = float(np.dot(xy[_CHIN] - (left + right) / 2, -up)) / width + CHIN_MARGIN
        extra = min(max(0.0, below - (HEAD_HALF_HEIGHT - HEAD_CENTRE_UP)), MAX_CHIN_EXTRA)
        centre, half_height = centre - up * extra / 2 * width, HEAD_HALF_HEIGHT + extra / 2
    # The outline as a polygon of `OUTLINE_POINTS` corners (cv2.ellipse draws 72 at this size: 1.5x the time)
    outline = centre + _UNIT_CIRCLE[:, :1] * (HEAD_HALF_WIDTH * width * across) - _UNIT_CIRCLE[:, 1:] * (half_height * width * up)
    if present[_FEATURE_COLS].all():
        return outline, xy[_FEATURE_ORDER], _FEATURE_BOUNDS
    stand_ins = _stand_in_features(xy, present, across, up, width)
    lines = [xy[idx] if present[idx].all() else stand_ins.get(name) for name, idx in _FACE_FEATURES.items()]
    lines = [line for line in lines if line is not None]
    return outline, (np.concatenate(lines) if lines else np.zeros((0, 2))), _bounds([len(line) for line in lines])


def _draw_head_lines(image: np.ndarray, head, scale: float, offset, thickness: int) -> None:
    """Draw `head_lines`' lines on `image`, each point mapped to point * scale + offset (pixels)."""
    import cv2

    outline, points, bounds = head
    fixed_scale = scale * (1 << _SHIFT)
    fixed_offset = np.asarray(offset, np.float64) * (1 << _SHIFT)
    cv2.polylines(image, [(outline * fixed_scale + fixed_offset).round().astype(np.int32)], True, BODY_COLOR,
                  max(1, int(round(thickness * 1.5))), cv2.LINE_AA, _SHIFT)
    if bounds:
        fixed = (points * fixed_scale + fixed_offset).round().astype(np.int32)
        cv2.polylines(image, [fixed[a:b] for a, b in bounds], False, FACE_COLOR, max(1, int(round(thickness * 0.75))),
                      cv2.LINE_AA, _SHIFT)


@dataclass(frozen=True)
class Caption:
    """A frame's caption: the English sentence, `english[start:end]` (the word being signed) highlighted, over the gloss."""

    gloss: str = ""
    english: str = ""
    start: int = 0
    end: int = 0


CAPTION_TEXT_COLOR = (20, 20, 20)
CAPTION_DIM_COLOR = (110, 110, 110)  # the English around the highlighted word
CAPTION_HIGHLIGHT_COLOR = RIGHT_HAND_COLOR


@dataclass
class RenderConfig:
    """How skeleton frames look. `view` is the signing space in shoulder units: (x0, y0, x1, y1)."""

    size: int = 512
    caption: bool = True
    hands_inset: bool = True
    background: tuple[int, int, int] = (255, 255, 255)
    thickness: int = 2
    face: bool = True
    view: tuple[float, float, float, float] = (-2.4, -2.0, 2.4, 2.8)
    inset_zoom: float = 2.0
    face_inset: bool = True  # a magnified head top right, where raised and lowered brows can be told apart
    face_zoom: float = 1.7


class SkeletonRenderer:
    """Draws normalised poses (shoulder centre at 0, shoulder width 1, y down) on a fixed canvas.

    The signing space `view` is centred and scaled to fit the square canvas, the same for every
    frame, so the signer never jumps or zooms between signs.
    """

    def __init__(self, config: RenderConfig | None = None):
        import cv2

        self._cv2 = cv2
        self.config = c = config or RenderConfig()
        x0, y0, x1, y1 = c.view
        self.scale = c.size / max(x1 - x0, y1 - y0)
        self.origin = np.array([c.size / 2 - (x0 + x1) / 2 * self.scale, c.size / 2 - (y0 + y1) / 2 * self.scale])
        self._fixed_scale, self._fixed_origin = self.scale * (1 << _SHIFT), self.origin * (1 << _SHIFT)
        self._background = np.empty((c.size, c.size, 3), np.uint8)
        self._background[:] = c.background
        self._captioned: tuple[str | None, np.ndarray] = (None, self._background)
        s = int(c.size * 0.27)
        m = max(4, c.size // 64)
        # The signer's right hand shows on the image's left, so its inset goes bottom-left.
        self._insets = (
            (RIGHT_HAND, RIGHT_HAND_COLOR, (m, c.size - m - s, s)),
            (LEFT_HAND, LEFT_HAND_COLOR, (c.size - m - s, c.size - m - s, s)),
        )
        # The face inset sits top right, below the caption, on the non-dominant hand's side.
        self._face_inset = (c.size - m - s, m + int(c.size * 0.08), s)
        boxes = [(color, box) for _, color, box in self._insets] if c.hands_inset else []
        boxes += [(FACE_COLOR, self._face_inset)] if c.face_inset and c.face else []
        for color, (x, y, size) in boxes:
            cv2.rectangle(self._background, (x, y), (x + size, y + size), (246, 246, 246), -1)
            cv2.rectangle(self._background, (x, y), (x + size, y + size), color, 1)

    def to_pixels(self, xyz: np.ndarray) -> np.ndarray:
        """(..., 2+) shoulder units -> (..., 2) canvas pixels."""
        return xyz[..., :2] * self.scale + self.origin

    def frame(self, xyz: np.ndarray, conf: np.ndarray, caption: str | Caption | None = None) -> np.ndarray:
        """One (size, size, 3) uint8 RGB frame from (543, 3) normalised points and (543,) confidences."""
        c = self.config
        img = self._canvas(caption if c.caption else None).copy()
        present = conf > 0
        # Every sign is retargeted to one signer, so the head keeps that size as it turns. Its lines
        # are worked out once, in shoulder units, for the head and for the face inset.
        head = head_lines(xyz, present, SIGNER.head) if c.face else None
        if head is not None:
            _draw_head_lines(img, head, self.scale, self.origin, c.thickness)
        # Joint dots only where hands are big enough to show them: the insets (or without insets).
        fixed = np.round(xyz[:, :2] * self._fixed_scale + self._fixed_origin).astype(np.int32)
        _draw_layers(img, fixed, present, c.thickness, face=False, joints=not c.hands_inset)
        if c.hands_inset:
            self._draw_insets(img, xyz, present)
        if c.face_inset and head is not None:
            self._draw_face_inset(img, xyz, present, head)
        return img

    def _draw_face_inset(self, img: np.ndarray, xyz: np.ndarray, present: np.ndarray, head) -> None:
        """The head (`head_lines` in shoulder units) magnified `face_zoom` times, centred on the middle
        of the ears (it turns and leans in place)."""
        if not (present[LEFT_EAR] and present[RIGHT_EAR]):
            return
        x, y, s = self._face_inset
        zoom = self.scale * self.config.face_zoom
        centre = (xyz[LEFT_EAR, :2] + xyz[RIGHT_EAR, :2]) / 2
        offset = np.array([s / 2, s / 2 - 0.05 * SIGNER.head * zoom]) - 1 - centre * zoom  # room for the chin
        view = img[y + 1 : y + s, x + 1 : x + s]
        thickness = max(1, round((self.config.thickness + 1) * self.config.size / 512))  # thin lines on small canvases
        _draw_head_lines(view, head, zoom, offset, thickness)

    def _canvas(self, caption: str | Caption | None) -> np.ndarray:
        """The empty frame with `caption` drawn on it; the last one is kept, as a sign's frames share their caption."""
        if not caption:
            return self._background
        if self._captioned[0] != caption:
            img = self._background.copy()
            self.draw_caption(img, caption)
            self._captioned = (caption, img)
        return self._captioned[1]

    def frames(self, arr: PoseArray, captions: Sequence[str | None] | None = None) -> Iterator[np.ndarray]:
        """Frames of a normalised `PoseArray`, one by one (nothing is accumulated).

        A repeated pose yields the same array object again: copy a frame before changing it.
        """
        last = None
        # Held poses (fingerspelled letters) repeat exactly: draw them once.
        held = np.zeros(len(arr), bool)
        held[1:] = (arr.xyz[1:] == arr.xyz[:-1]).all(axis=(1, 2)) & (arr.conf[1:] == arr.conf[:-1]).all(axis=1)
        for t in range(len(arr)):
            caption = captions[t] if captions is not None else None
            if last is not None and held[t] and caption == last[0]:
                yield last[1]
                continue
            image = self.frame(arr.xyz[t], arr.conf[t], caption)
            last = (caption, image)
            yield image

    def render_stream(self, chunks: Iterable[tuple[PoseArray, Sequence[str | None]]]) -> Iterator[np.ndarray]:
        """Frames of a stream of (chunk, per-frame captions), as the stitcher yields them."""
        for arr, captions in chunks:
            yield from self.frames(arr, captions)

    def _draw_insets(self, img: np.ndarray, xyz: np.ndarray, present: np.ndarray) -> None:
        zoom = self.scale * self.config.inset_zoom * (1 << _SHIFT)  # to fixed-point pixels
        for hand, color, (x, y, s) in self._insets:
            seen = present[hand]
            if not seen.any():
                continue
            pts = xyz[hand, :2]
            # Centre on the palm (wrist..middle knuckle) at a fixed zoom: a bounding-box fit would
            # zoom in and out as the handshape changes.
            centre = (pts[0] + pts[9]) / 2 if seen[0] and seen[9] else pts[seen].mean(axis=0)
            fixed = np.round((pts - centre) * zoom + (s / 2 - 1) * (1 << _SHIFT)).astype(np.int32)
            _draw_edges(img[y + 1 : y + s, x + 1 : x + s], fixed, seen, _HAND_EDGES, color, max(1, self.config.thickness), True)

    def draw_caption(self, img: np.ndarray, caption: str | Caption) -> None:
        """Draw `caption` at the top of `img` ((size, size, 3) uint8 RGB) in place."""
        cv2 = self._cv2
        size = self.config.size
        scale = size / 640
        thick = max(1, size // 256)
        y = int(size * 0.03)
        if isinstance(caption, Caption):
            if caption.english:
                y = self._draw_english(img, caption, scale, thick, y)
            caption = caption.gloss
        if not caption:
            return
        (w, h), base = cv2.getTextSize(caption, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        x = max(4, (size - w) // 2)
        cv2.putText(img, caption, (x, y + h), cv2.FONT_HERSHEY_SIMPLEX, scale, CAPTION_TEXT_COLOR, thick, cv2.LINE_AA)

    def _draw_english(self, img: np.ndarray, caption: Caption, scale: float, thick: int, y: int) -> int:
        """The English line, cut to the canvas around the highlighted word; returns the y below it."""
        cv2 = self._cv2
        font = cv2.FONT_HERSHEY_SIMPLEX

        def width(text: str) -> int:
            return cv2.getTextSize(text, font, scale, thick)[0][0]

        before, word, after = fit_caption(caption, lambda t: width(t) <= self.config.size - 8)
        (_, h), _ = cv2.getTextSize(before + word + after or "A", font, scale, thick)
        x = max(4, (self.config.size - width(before + word + after)) // 2)
        for text, color, bold in ((before, CAPTION_DIM_COLOR, 0), (word, CAPTION_HIGHLIGHT_COLOR, 1),
                                  (after, CAPTION_DIM_COLOR, 0)):
            if text:
                cv2.putText(img, text, (x, y + h), font, scale, color, thick + bold, cv2.LINE_AA)
                if bold:  # underlined as well as coloured: it reads in greyscale too
                    cv2.line(img, (x, y + h + 3 + thick), (x + width(text), y + h + 3 + thick), color, thick)
                x += width(text)
        return y + int(h * 1.9)


def fit_caption(caption: Caption, fits) -> tuple[str, str, str]:
    """(before, word, after) of `caption.english`, words dropped from the longer side (marked '...')
    until `fits(text)` holds; the highlighted word itself is always kept."""
    text = caption.english
    start, end = max(0, min(caption.start, len(text))), max(0, min(caption.end, len(text)))
    before, word, after = text[:start], text[start:end], text[end:]
    cut_before = cut_after = False
    while not fits(("..." if cut_before else "") + before + word + after + ("..." if cut_after else "")):
        if not before and not after:
            break
        if len(before) >= len(after):
            before = before[before.find(" ", 1) + 1:] if " " in before[1:] else ""
            cut_before = True
        else:
            after = after[:after.rfind(" ")] if " " in after.rstrip()[:-1] else ""
            cut_after = True
    return ("..." if cut_before else "") + before, word, after + ("..." if cut_after else "")
