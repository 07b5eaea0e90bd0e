"""Small fixtures the tests build themselves: lexicon folders made from the embedded alphabet."""
from __future__ import annotations

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
