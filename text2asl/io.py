"""File I/O every stage shares: atomic writes, output-path checks, reading videos, writing .pose files."""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import math
import os
import re
import shutil
import signal
import threading
import uuid
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Iterable, Iterator

from text2asl.errors import Terminated, Text2ASLError

if TYPE_CHECKING:  # numpy is imported where it is used, so that the CLI runner's error path imports this module cheaply
    import numpy as np

# Formats the package writes: videos, and videos plus .pose files.
VIDEO_WRITE_SUFFIXES = (".mp4", ".gif")
OUTPUT_SUFFIXES = (".mp4", ".gif", ".pose")
# Camera recordings that extraction and the dataset adapters pick up from a folder.
CLIP_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v")
# Anything `read_video` decodes for evaluation: recordings and the package's own GIFs.
VIDEO_READ_SUFFIXES = CLIP_SUFFIXES + (".gif",)


def contained_path(folder: Path, name: str, where: str, what: str = "folder") -> Path:
    """`folder / name` for a path read from a user's file, refusing names that are absolute or lead outside.

    `where` names the file and row for the message (e.g. "index.csv line 3"), `what` the folder
    ("lexicon folder"). The name is checked as written (no absolute path, no `..`), then the path
    is resolved and must stay inside the folder (`inside`): a symlink that leads out is refused
    like a `../`. Used for every path read from metadata: index.csv, labels.csv, WLASL / ASL
    Citizen, metadata.jsonl.
    """
    name = str(name).strip()
    if not name:
        raise Text2ASLError(f"{where} gives an empty path; fix the file")
    plain = not name.startswith(".") and not any(c in name for c in "/\\:")  # a file name (most rows): nothing to parse
    if not plain:
        posix, windows = PurePosixPath(name), PureWindowsPath(name)
        if posix.is_absolute() or windows.is_absolute() or windows.drive or name.startswith(("/", "\\")):
            raise Text2ASLError(f"{where} gives the absolute path {name!r}; refused: paths must be relative to the {what}")
        if ".." in set(posix.parts) | set(windows.parts) or os.path.normpath(name).startswith(".."):
            raise Text2ASLError(f"{where} gives the path {name!r}, which leaves the {what}; refused")
    level = os.fspath(folder)
    for part in re.split(r"[/\\]", name):  # no symlink below the folder (one lstat a level): inside as named
        level = os.path.join(level, part)
        if os.path.islink(level):
            return inside(folder, Path(folder) / name, f"{where} gives the path {name!r}, which", what)
    return Path(folder) / name


def inside(folder: str | Path, path: str | Path, subject: str, what: str = "folder", remedy: str | None = None) -> Path:
    """`path` if it resolves to a place inside `folder` (resolved too); else one sentence.

    The package's one symlink rule, for reading and writing alike: resolve, then contain. A symlink
    inside a lexicon, videos, dataset or run folder may point elsewhere in that folder, never out
    of it. `subject` starts the message ("index.csv row 3 gives the path 'a.pose', which").
    Returns `path` unresolved, so messages and outputs keep the names the user gave.
    """
    path = Path(path)
    if _plainly_inside(Path(folder), path):  # the common case, one lstat per level: lexicons list 100,000 files
        return path
    try:
        root, real = Path(folder).resolve(), path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        raise Text2ASLError(f"{subject} is a symlink loop; refused") from None
    if real != root and not real.is_relative_to(root):
        raise Text2ASLError(f"{subject} is a symlink that leads outside the {what} (to {real}); refused: "
                            f"{remedy or f'copy the file into the {what}'}")
    return path


def _plainly_inside(folder: Path, path: Path) -> bool:
    """Whether `path` is `folder`/a/b/... with no `..` and no symlink on the way below `folder` (so it stays inside)."""
    try:
        rel = path.relative_to(folder)
    except ValueError:
        return False
    if ".." in rel.parts:
        return False
    level = folder
    for part in rel.parts:
        level = level / part
        if level.is_symlink():
            return False
    return True


def refuse_escaping_links(folder: str | Path, what: str = "output folder") -> Path:
    """`folder` if no symlink in it (at any depth) leads outside it; else one sentence (the `inside` rule, for writes).

    Called before a command writes into a folder that already exists (a run, a dataset), so that
    nothing it writes there (loss.csv, weights, images) can land in a file elsewhere.
    """
    folder = Path(folder)
    for parent, dirs, files in os.walk(folder):  # does not descend into linked folders
        for name in dirs + files:
            entry = Path(parent) / name
            if entry.is_symlink():
                inside(folder, entry, f"{entry}", what, "remove the link")
    return folder


def check_output_path(path: str | Path, suffixes: tuple[str, ...] = OUTPUT_SUFFIXES) -> Path:
    """Fail early, in one sentence, if `path` cannot be written: wrong extension, missing or read-only folder."""
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        raise Text2ASLError(f"cannot write {path}: unknown output extension {path.suffix or '(none)'!r}; use one of {', '.join(suffixes)}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        raise Text2ASLError(f"cannot write {path}: folder {folder} does not exist; create it first")
    if not folder.is_dir():
        raise Text2ASLError(f"cannot write {path}: {folder} is not a folder")
    if path.is_dir():
        raise Text2ASLError(f"cannot write {path}: it is a folder; give a file name like {path / 'out.mp4'}")
    with atomic_path(path) as tmp:  # the only reliable test (root ignores permission bits, read-only mounts)
        tmp.touch()
        raise _Probe
    return path


def make_folder(folder: str | Path, what: str = "output folder") -> Path:
    """Create `folder` (and its parents) or fail in one sentence: under /proc, read-only, a file in the way.

    The folders it creates are remembered, so that a command that then fails can take them away
    again while they are empty (`remove_made_folders`, called by the CLI's runner).
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise Text2ASLError(f"{what} {folder} is a file; give a folder")
    missing = []
    for level in (folder, *folder.parents):
        if level.exists():
            break
        missing.append(level)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Text2ASLError(f"cannot create {what} {folder}: {_reason(exc)}; give a writable folder") from None
    _MADE.extend(reversed(missing))
    return folder


# Folders `make_folder` created in this process, parents before children.
_MADE: list[Path] = []


def made_folders_mark() -> int:
    """A mark for `remove_made_folders`: the folders made after it are the ones a command made."""
    return len(_MADE)


def remove_made_folders(since: int = 0) -> list[Path]:
    """Delete the folders `make_folder` created after mark `since` that are still empty, deepest first; returns them.

    For a command that failed: what it finished stays, the empty folders it made for the rest go.
    Folders the user had before are never touched; a folder with anything in it is kept.
    """
    removed = []
    for folder in sorted(set(_MADE[since:]), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()  # refuses a folder that is not empty
            removed.append(folder)
    del _MADE[since:]
    return removed


def os_error_sentence(exc: BaseException, path: str | Path | None = None) -> str | None:
    """One sentence for an error the user's environment caused (read-only folder, full disk, no permission), else None.

    `exc` is an OSError, or a library's own error that wraps one (safetensors says "... (os error
    28)"). The CLI's runner turns such an error into this sentence wherever it came from; other
    errors are bugs or missing files the command should have named, and keep their traceback.
    `path` names the output (rather than the temp file the error names, if any).
    """
    code = _errno_of(exc)
    if code not in _USER_ERRNOS:
        return None
    target = path or getattr(exc, "filename", None) or "a file"
    if code in (errno.EACCES, errno.EPERM):  # a read as well as a write
        return f"cannot open {target}: {_reason(code)}; check its permissions and its folder's"
    remedy = "free some space or write elsewhere" if code in (errno.ENOSPC, errno.EDQUOT) else "give a writable folder"
    return f"cannot write {target}: {_reason(code)}; {remedy}"


# errno values that say the place is not writable, not that the program is wrong.
_USER_ERRNOS = {errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM}


def _errno_of(exc: BaseException) -> int | None:
    """The errno of an OSError, or of the OS error a library's exception reports in its message ("(os error 28)")."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno
    m = re.search(r"\(os error (\d+)\)", str(exc))
    return int(m[1]) if m else None


def _reason(code: int | OSError | None) -> str:
    """What went wrong, in lower case: "read-only file system", "no space left on device"."""
    if isinstance(code, OSError):
        code = code.errno if code.errno is not None else (code.strerror or str(code))
    if code in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on device"
    text = os.strerror(code) if isinstance(code, int) else (str(code).strip().splitlines() or ["unknown error"])[0]
    return text[:1].lower() + text[1:]


class _Probe(Exception):
    """Aborts the probe write in `check_output_path` so nothing is left behind."""


# `atomic_path`'s temp names: ".<stem>.<8 hex>.partial<suffix>" beside the output.
PARTIAL_NAME = re.compile(r"^\.(?P<stem>.+)\.[0-9a-f]{8}\.partial(?P<suffix>\.[^.]*)?$")
# Free bytes below which a write is taken to have hit a full disk: ffmpeg then says only "Broken pipe",
# or prints "No space left on device" for its trailer and still exits 0 with a truncated file.
_NEARLY_FULL = 1 << 20


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path beside `path`; rename it onto `path` on success, delete it on any error.

    The temp name keeps the suffix so tools that pick a format by extension (ffmpeg) work, and it
    is hidden so a half-written file is never mistaken for a result. The temp file is created
    and flock-ed while it is written: SIGTERM/SIGHUP raise `Terminated` (the temp is deleted, as
    on Ctrl-C), and temps a SIGKILL left behind hold no lock, so the next write of the same
    output removes them (`remove_stale_partials`). A failed write on a full disk says so.
    """
    path = Path(path)
    remove_stale_partials(path.parent if str(path.parent) else Path("."), path.name)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.partial{path.suffix}")
    lock = None
    try:
        with _terminate_on_signals():
            # Locked under a name the sweep ignores, then renamed: another process's
            # `remove_stale_partials` (a concurrent shard) never sees the temp created but unlocked.
            fresh = tmp.with_name(f"{tmp.name}.new")
            try:
                lock = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                fcntl.flock(lock, fcntl.LOCK_EX)
                os.rename(fresh, tmp)
            except OSError as exc:
                with contextlib.suppress(OSError):  # a read-only folder refuses the unlink too
                    fresh.unlink(missing_ok=True)
                raise Text2ASLError(os_error_sentence(exc, path) or f"cannot write {path}: {_reason(exc)}") from None
            yield tmp
            if _free_bytes(path) < _NEARLY_FULL:  # a writer subprocess (ffmpeg) may hit ENOSPC and still exit 0
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            os.replace(tmp, path)
    except _Probe:
        _discard(tmp)
        return
    except Text2ASLError:
        _discard(tmp)
        raise
    except Exception as exc:
        full = _disk_full(exc, path)  # before the temp is deleted, which frees space again
        _discard(tmp)
        if full:
            raise Text2ASLError(f"cannot write {path}: no space left on device; free some space or write elsewhere") from None
        if isinstance(exc, OSError):  # imageio-ffmpeg's carries ffmpeg's whole command line: keep the first line
            detail = exc.strerror or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise Text2ASLError(f"cannot write {path}: {detail}") from None
        raise
    except BaseException:
        _discard(tmp)
        raise
    finally:
        if lock is not None:
            os.close(lock)


def _discard(path: Path) -> None:
    """Delete a temp file or folder if it is there; on a read-only file system even asking fails, so that is quiet."""
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield an empty hidden temp folder beside `path`; on success it replaces `path`, on any error it is deleted.

    For outputs that are several files (a checkpoint, a saved model): a kill, a full disk or a
    read-only folder never leaves a half-written folder, nor the temp.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    _discard(tmp)
    try:
        with _terminate_on_signals():
            tmp.mkdir(parents=True)
            yield tmp
            if path.exists():
                shutil.rmtree(path)
            os.replace(tmp, path)
    except Text2ASLError:
        _discard(tmp)
        raise
    except Exception as exc:
        _discard(tmp)
        sentence = os_error_sentence(exc, path)
        if sentence is None:
            raise
        raise Text2ASLError(sentence) from None
    except BaseException:
        _discard(tmp)
        raise


def remove_stale_partials(folder: Path, name: str | None = None) -> list[Path]:
    """Delete temp files of `atomic_path` in `folder` whose writer is gone (killed); returns them.

    name: only the temps of that output file name (e.g. "hello.mp4"); None: every output's.
    A temp whose writer is alive holds an flock, so a concurrent write of the same file is safe.
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:  # a missing or unreadable folder: the write itself reports it
        return removed
    for entry in entries:
        m = PARTIAL_NAME.match(entry.name) if entry.name.startswith(".") else None
        if m is None or (name is not None and f"{m['stem']}{m['suffix'] or ''}" != name):
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:  # locked: its writer is alive
            pass
        finally:
            os.close(fd)
    return removed


def _disk_full(exc: BaseException, path: Path) -> bool:
    """Whether a failed write was a full disk: ENOSPC itself (or wrapped by a library), or a writer (ffmpeg: "Broken pipe") that died of it."""
    if _errno_of(exc) in (errno.ENOSPC, errno.EDQUOT):
        return True
    if not isinstance(exc, OSError):  # a bug or a user error, whatever the free space
        return False
    return _free_bytes(path) < _NEARLY_FULL


def _free_bytes(path: Path) -> float:
    """Bytes free for this user on the file system holding `path` (inf when it cannot be asked)."""
    try:
        return shutil.disk_usage(path.parent if str(path.parent) else ".").free
    except OSError:
        return math.inf


@contextlib.contextmanager
def _terminate_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise `Terminated` (so cleanup runs) unless the program set its own handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            previous[signum] = signal.signal(signum, _raise_terminated)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _raise_terminated(signum, frame):
    raise Terminated(signum)


def read_video(path: str | Path) -> tuple[Iterator[np.ndarray], dict]:
    """(frames, meta) of a video: frames is an iterator of (H, W, 3) uint8 RGB.

    meta: fps, size (w, h), n_frames (from the container header, decoding only when the header
    has no count), duration (s, from the header) and codec.
    """
    import imageio_ffmpeg
    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise Text2ASLError(f"video {path} does not exist")
    gen = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = gen.__next__()
    except Exception as exc:
        raise Text2ASLError(f"{path} is not a readable video ({str(exc).splitlines()[0][:120]})") from None
    w, h = meta["size"]
    info = {"fps": float(meta["fps"]), "size": (int(w), int(h)), "n_frames": _header_frame_count(path),
            "duration": meta.get("duration"), "codec": meta.get("codec")}
    if not info["n_frames"]:
        info["n_frames"] = int(imageio_ffmpeg.count_frames_and_secs(str(path))[0])

    def frames() -> Iterator[np.ndarray]:
        for raw in gen:
            yield np.frombuffer(raw, np.uint8).reshape(h, w, 3)

    return frames(), info


def _header_frame_count(path: Path) -> int:
    """Frame count stored in the container (no decoding); 0 when the container does not say."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        return max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT))) if cap.isOpened() else 0
    finally:
        cap.release()


def write_pose(pose, path: str | Path) -> Path:
    """Write a `pose_format.Pose` atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            pose.write(fh)
    return path


def write_pose_stream(chunks: Iterable, path: str | Path, fps: float) -> Path:
    """Write a stream of `PoseArray` chunks (or (chunk, anything) pairs) as one `.pose` file, atomically.

    The same bytes as `write_pose(to_pose(concatenated chunks))`, but memory stays that of one
    chunk. pose-format can only write a whole `Pose`, and its v0.2 body is every frame's points,
    then every frame's confidences, behind a frame count. So the points go straight to the file,
    the confidences to a spool file beside it (a third of the size) that is appended at the end,
    and the frame count is patched in last.
    """
    import struct
    import tempfile

    import numpy as np

    from text2asl.poses.layout import pose_header

    path = Path(path)
    frames = 0
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh, tempfile.TemporaryFile(dir=tmp.parent, prefix=f".{path.stem}.", suffix=".conf") as conf:
            body_at = None
            for chunk in chunks:
                arr = chunk[0] if isinstance(chunk, tuple) else chunk
                if body_at is None:
                    pose_header(arr.size).write(fh)
                    body_at = fh.tell()
                    fh.write(struct.pack("<fIH", fps, 0, 1))  # fps, frame count (patched below), people
                fh.write(np.ascontiguousarray(arr.xyz, np.float32).tobytes())
                conf.write(np.ascontiguousarray(arr.conf, np.float32).tobytes())
                frames += len(arr)
            if body_at is None:
                raise Text2ASLError(f"no frames to write to {path}")
            conf.seek(0)
            shutil.copyfileobj(conf, fh, 1 << 20)
            fh.seek(body_at + 4)
            fh.write(struct.pack("<I", frames))
    return path


def read_json_object(path: Path, remedy: str) -> dict:
    """The JSON object in `path`, {} when the file is absent; a damaged file is one sentence that ends in `remedy`."""
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Text2ASLError(f"{path} is not valid JSON ({type(exc).__name__}); {remedy}") from None
    if not isinstance(value, dict):
        raise Text2ASLError(f"{path} must hold a JSON object; {remedy}")
    return value
