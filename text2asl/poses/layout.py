"""The canonical holistic layout (body 33, face 468, two hands 21) and conversion to and from `pose_format.Pose`.

Lexicons come in several MediaPipe Holistic variants: 543 points (4 components), 576 (plus
POSE_WORLD_LANDMARKS), 586 (refined 478-point face plus world). Every stage works on one layout,
so a sign recorded with one variant can be stitched next to a sign recorded with another.
"""
from __future__ import annotations

import functools
import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

COMPONENTS: tuple[tuple[str, int], ...] = (
    ("POSE_LANDMARKS", 33),
    ("FACE_LANDMARKS", 468),
    ("LEFT_HAND_LANDMARKS", 21),
    ("RIGHT_HAND_LANDMARKS", 21),
)
BODY = slice(0, 33)
FACE = slice(33, 501)
LEFT_HAND = slice(501, 522)
RIGHT_HAND = slice(522, 543)
N_POINTS = 543

# Larger |coordinate| than this is no pixel position or shoulder unit: the point counts as missing.
MAX_COORDINATE = 1e6

# What a .pose file can be, checked before its body is read (`read_pose_file`). Ten minutes of
# 60 fps holistic poses (586 points, 16 bytes each) are 340 MB; no sign, sentence or clip the
# package reads or writes is longer, and a file past this is read whole by pose-format.
MAX_POSE_BYTES = 512 * 2**20
# Frame rates of cameras, from a slow webcam to high-speed video. Below 1 fps one recorded frame
# would become dozens of output frames per second of a "sign" lasting minutes.
FPS_RANGE = (1.0, 1000.0)
# A lexicon sign (its start/end span) lasts seconds: the asl-app signs 0.5-2.8 s, a fingerspelled
# letter about 1 s. A "sign" of many minutes is a whole recording, or a wrong rate, that would be
# resampled into millions of output frames.
MAX_SIGN_SECONDS = 60.0

# Indices into BODY (MediaPipe pose landmark numbering).
NOSE, LEFT_SHOULDER, RIGHT_SHOULDER = 0, 11, 12
LEFT_WRIST, RIGHT_WRIST, LEFT_HIP, RIGHT_HIP = 15, 16, 23, 24
LEFT_ELBOW, RIGHT_ELBOW = 13, 14
LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR, MOUTH_LEFT, MOUTH_RIGHT = 2, 5, 7, 8, 9, 10
HEAD = slice(0, 11)  # nose, eyes, ears, mouth corners: every lexicon has them, whatever its face mesh holds
LEFT_HAND_BODY = (15, 17, 19, 21)  # wrist, pinky, index, thumb as the body model sees them
RIGHT_HAND_BODY = (16, 18, 20, 22)
THUMB_TIP = 4  # index into a hand component

# Facial features as polylines of face-mesh indices (into FACE). All of them are among the 33
# face points that sparse lexicons keep (asl-app-lexicon), so a sparse and a dense face are drawn
# alike. Closed outlines repeat their first point.
FACE_FEATURES: dict[str, tuple[int, ...]] = {
    "right_brow": (70, 63, 105, 66, 107),
    "left_brow": (336, 296, 334, 293, 300),
    "right_eye": (33, 159, 133, 145, 33),
    "left_eye": (362, 386, 263, 374, 362),
    "nose": (4, 1),
    "mouth": (61, 0, 291, 17, 61),
    "chin": (176, 148, 152, 377, 400),
}
CHIN = 152


@dataclass
class PoseArray:
    """A pose sequence in the canonical layout, as plain arrays.

    xyz:  (T, 543, 3) float32; pixels of the source frame, or shoulder units once normalised.
    conf: (T, 543) float32 in [0, 1]; 0 means the point is missing in that frame.
    fps:  frames per second.
    size: (width, height) of the source frame in pixels, when known.
    """

    xyz: np.ndarray
    conf: np.ndarray
    fps: float
    size: tuple[int, int] | None = None
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.xyz.shape[0])

    @property
    def duration(self) -> float:
        return len(self) / self.fps

    def present(self) -> np.ndarray:
        """(T, 543) bool: points that were detected."""
        return self.conf > 0

    def slice(self, start: int, stop: int) -> "PoseArray":
        return PoseArray(self.xyz[start:stop], self.conf[start:stop], self.fps, self.size, dict(self.meta))

    def copy(self) -> "PoseArray":
        return PoseArray(self.xyz.copy(), self.conf.copy(), self.fps, self.size, dict(self.meta))

    @staticmethod
    def concatenate(parts: list["PoseArray"]) -> "PoseArray":
        if not parts:
            raise ValueError("nothing to concatenate")
        return PoseArray(
            np.concatenate([p.xyz for p in parts]),
            np.concatenate([p.conf for p in parts]),
            parts[0].fps,
            parts[0].size,
        )


def _embedded_alphabet_dir() -> Path:
    """The ASL fingerspelling lexicon inside the installed spoken-to-signed wheel (found without importing it)."""
    spec = importlib.util.find_spec("spoken_to_signed")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("spoken-to-signed is not installed: pip install spoken-to-signed==0.4.0")
    return Path(list(spec.submodule_search_locations)[0]) / "assets" / "fingerspelling_lexicon"


@functools.lru_cache(maxsize=1)
def canonical_header():
    """The `PoseHeader` of the canonical layout, derived from the embedded alphabet's holistic header."""
    from pose_format import Pose
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

    index = (_embedded_alphabet_dir() / "index.csv").read_text().splitlines()
    first = next(line.split(",")[0] for line in index[1:] if ",ase," in line)
    source = Pose.read((_embedded_alphabet_dir() / first).read_bytes()).header
    by_name = {c.name: c for c in source.components}
    components = []
    for name, n in COMPONENTS:
        c = by_name[name]
        limbs = [(a, b) for a, b in c.limbs if a < n and b < n]
        components.append(PoseHeaderComponent(name, list(c.points[:n]), limbs, list(c.colors), "XYZC"))
    return PoseHeader(0.2, PoseHeaderDimensions(width=512, height=512, depth=0), components)


def to_canonical(pose) -> PoseArray:
    """Reconcile any holistic variant (543/576/586 points, XY or XYZ) into a `PoseArray`.

    Components are matched by name; a refined face keeps its first 468 points; a component the
    pose lacks is filled as missing (confidence 0). Only the first person is kept.
    """
    header = pose.header
    data = np.ma.getdata(pose.body.data)[:, 0].astype(np.float32)  # (T, P, D)
    conf = np.asarray(pose.body.confidence)[:, 0].astype(np.float32)  # (T, P)
    mask = np.ma.getmaskarray(pose.body.data)[:, 0]
    if mask.any():
        conf = np.where(mask.any(axis=-1), 0.0, conf).astype(np.float32)
    t = data.shape[0]
    xyz = np.zeros((t, N_POINTS, 3), np.float32)
    out_conf = np.zeros((t, N_POINTS), np.float32)
    offsets = {}
    offset = 0
    for c in header.components:
        offsets[c.name] = (offset, len(c.points))
        offset += len(c.points)
    dst = 0
    for name, n in COMPONENTS:
        if name in offsets:
            src, m = offsets[name]
            k = min(n, m)
            dims = min(3, data.shape[-1])
            xyz[:, dst : dst + k, :dims] = data[:, src : src + k, :dims]
            out_conf[:, dst : dst + k] = conf[:, src : src + k]
        dst += n
    # NaN, inf or absurd coordinates (1e30) are missing points, not positions to draw.
    bad = ~np.isfinite(xyz).all(axis=-1) | (np.abs(np.nan_to_num(xyz)) > MAX_COORDINATE).any(axis=-1)
    out_conf = np.where(bad, 0.0, np.nan_to_num(np.clip(out_conf, 0, 1))).astype(np.float32)
    xyz = np.where(bad[..., None], 0.0, xyz).astype(np.float32)
    size = (int(header.dimensions.width), int(header.dimensions.height)) if header.dimensions.width else None
    return PoseArray(xyz, out_conf, float(pose.body.fps), size)


def pose_header(size: tuple[int, int] | None = None):
    """The canonical `PoseHeader` with the frame size (W, H) in pixels (512x512 when not known)."""
    from pose_format.pose_header import PoseHeader, PoseHeaderDimensions

    base = canonical_header()
    w, h = size or (512, 512)
    return PoseHeader(base.version, PoseHeaderDimensions(width=int(w), height=int(h), depth=0), base.components)


def to_pose(arr: PoseArray):
    """A `pose_format.Pose` (one person, canonical header) from a `PoseArray`; missing points are masked."""
    from pose_format import Pose
    from pose_format.numpy.pose_body import NumPyPoseBody

    header = pose_header(arr.size)
    mask = np.repeat((arr.conf <= 0)[:, None, :, None], 3, axis=-1)
    data = np.ma.masked_array(arr.xyz[:, None].astype(np.float32), mask=mask)
    body = NumPyPoseBody(fps=float(arr.fps), data=data, confidence=arr.conf[:, None].astype(np.float32))
    return Pose(header, body)


def read_pose_file(path: str | Path) -> PoseArray:
    """Read a `.pose` file into the canonical layout; a corrupt file raises `Text2ASLError` naming it."""
    from pose_format import Pose

    from text2asl.errors import Text2ASLError

    path = Path(path)
    check_pose_file(path)
    try:
        pose = Pose.read(path.read_bytes())
        arr = to_canonical(pose)
    except FileNotFoundError:
        raise Text2ASLError(f"pose file {path} does not exist") from None
    except Exception as exc:  # pose-format raises struct/ValueError/IndexError/... on corrupt input
        raise Text2ASLError(f"{path} is not a readable .pose file ({_pose_problem(exc)}); re-extract or remove it") from None
    if not (math.isfinite(arr.fps) and FPS_RANGE[0] <= arr.fps <= FPS_RANGE[1]):
        raise Text2ASLError(f"{path} has frame rate {arr.fps:g}, which is no camera's ({FPS_RANGE[0]:g} to "
                            f"{FPS_RANGE[1]:g} fps); re-extract or remove it")
    if len(arr) == 0:
        raise Text2ASLError(f"{path} holds no frames; re-extract or remove it")
    if not arr.present().any():
        raise Text2ASLError(f"{path} has no detected point in any frame (all missing, NaN or out of range); re-extract or remove it")
    return arr


def check_pose_file(path: Path) -> None:
    """Refuse, before reading a byte, what cannot be a sign's .pose: no file, not a regular file (a device such as
    /dev/zero, a pipe, a folder), or more bytes than any recording (`MAX_POSE_BYTES`)."""
    import stat

    from text2asl.errors import Text2ASLError

    try:
        info = path.stat()  # follows symlinks: the file itself is judged
    except FileNotFoundError:
        raise Text2ASLError(f"pose file {path} does not exist") from None
    except OSError as exc:
        raise Text2ASLError(f"pose file {path} cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise Text2ASLError(f"{path} is not a regular file (a folder, device or pipe); give a .pose file")
    if info.st_size > MAX_POSE_BYTES:
        raise Text2ASLError(f"{path} is {info.st_size / 2**20:,.0f} MiB, more than any sign's .pose "
                            f"({MAX_POSE_BYTES // 2**20} MiB at most); give the .pose of one sign or clip")


def _pose_problem(exc: Exception) -> str:
    """What is wrong with a .pose file, in words, from the exception pose-format raised while reading it."""
    import struct

    if isinstance(exc, (struct.error, EOFError)) or "buffer" in str(exc):
        return "it ends early: truncated, or not a .pose file at all"
    if isinstance(exc, UnicodeDecodeError):
        return "its header holds names that are not text"
    if isinstance(exc, MemoryError):
        return "its header claims more data than memory holds"
    text = str(exc).strip().splitlines()[0][:100] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
