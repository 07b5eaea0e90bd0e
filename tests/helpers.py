"""Small fixtures the tests build themselves: lexicon folders made from the embedded alphabet, unwritable folders."""
from __future__ import annotations

import errno
import fnmatch
import shutil
from pathlib import Path

from text2asl.gloss_to_pose.lexicon import COLUMNS, Lexicon


def make_lexicon(folder: Path, rows: dict[str, str], extra_rows: list[dict] | None = None) -> Path:
    """A lexicon folder whose signs are copies of embedded alphabet letters: {gloss/words: letter}."""
    alphabet = Lexicon.embedded()
    folder.mkdir(parents=True, exist_ok=True)
    lines = [",".join(COLUMNS)]
    for words, letter in rows.items():
        src = alphabet.find(letter)[0].path
        name = words.replace(" ", "_") + ".pose"
        shutil.copy(src, folder / name)
        lines.append(f"{name},en,ase,0,0,{words},{words.upper()},0")
    for row in extra_rows or []:
        lines.append(",".join(str(row.get(c, "")) for c in COLUMNS))
    (folder / "index.csv").write_text("\n".join(lines) + "\n")
    return folder


def unwritable(monkeypatch, folder: Path, code: int = errno.EROFS, names: str = "*") -> Path:
    """Make this process's writes under `folder` fail with `code`, as a read-only mount (EROFS) or a full disk (ENOSPC) does.

    Tests run as root, and root ignores permission bits, so the write layer is patched instead:
    opening a file for writing, creating a folder, renaming or deleting, for paths under `folder`
    whose base name matches `names` (e.g. "*.png": the disk fills up when the first image is
    written). A read-only folder also refuses deletes, which is what trips careless cleanup code.
    Writers in other processes (ffmpeg) are not patched; the package opens their temp file first.
    """
    import builtins
    import io
    import os

    root = os.path.abspath(folder)
    real_open, real_os_open, real_mkdir = builtins.open, os.open, os.mkdir
    real_replace, real_rename, real_unlink, real_rmdir = os.replace, os.rename, os.unlink, os.rmdir

    def blocked(path) -> bool:
        if isinstance(path, int):
            return False
        p = os.path.abspath(os.fsdecode(path))
        return (p == root or p.startswith(root + os.sep)) and fnmatch.fnmatch(os.path.basename(p), names)

    def fail(path):
        raise OSError(code, os.strerror(code), os.fsdecode(path))

    def open_(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+") and blocked(file):
            fail(file)
        return real_open(file, mode, *args, **kwargs)

    def os_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and blocked(path):
            fail(path)
        return real_os_open(path, flags, *args, **kwargs)

    def guard(real, read_only_only=False):
        def call(path, *args, **kwargs):
            if blocked(path) and (code == errno.EROFS or not read_only_only):
                fail(path)
            return real(path, *args, **kwargs)
        return call

    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)
    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(os, "mkdir", guard(real_mkdir))
    for name, real in (("replace", real_replace), ("rename", real_rename), ("unlink", real_unlink), ("rmdir", real_rmdir)):
        monkeypatch.setattr(os, name, guard(real, read_only_only=True))  # a full disk still deletes and renames
    return Path(folder)
