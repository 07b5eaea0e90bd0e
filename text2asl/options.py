"""Numeric command-line options with finite ranges: one argparse type that refuses NaN, inf and absurd values.

Every numeric option of every command is declared through `number(...)`, so the range is checked
once, where the value enters, before any work starts, and `--help` can say it (`RANGE` below).
Error messages across the package are one sentence without a closing period.
"""
from __future__ import annotations

import argparse
import math
from typing import Callable


def number(kind: type = float, lo: float | None = None, hi: float | None = None, *,
           lo_open: bool = False, even: bool = False) -> Callable[[str], float | int]:
    """An argparse `type=` that parses `kind` (int or float) and keeps it finite and within [lo, hi].

    `lo_open` makes the lower bound exclusive (e.g. fps > 0); `even` requires an even integer
    (H.264 frame sizes). The returned callable has a `range_text` attribute for help strings.
    """
    if kind not in (int, float):
        raise TypeError("kind must be int or float")

    def parse(text: str):
        try:
            value = kind(text) if kind is float else _parse_int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number; give a value in {parse.range_text}")
        if lo is not None and (value < lo or (lo_open and value == lo)):
            raise argparse.ArgumentTypeError(f"{text} is out of range; give a value in {parse.range_text}")
        if hi is not None and value > hi:
            raise argparse.ArgumentTypeError(f"{text} is out of range; give a value in {parse.range_text}")
        if even and value % 2:
            raise argparse.ArgumentTypeError(f"{text} is odd; give an even number in {parse.range_text}")
        return value

    left = "(" if lo_open else "["
    parse.range_text = f"{left}{_fmt(lo, '-inf')}, {_fmt(hi, 'inf')}]" + (" (even)" if even else "")
    parse.__name__ = kind.__name__  # argparse names the type in its own messages
    return parse


def _parse_int(text: str) -> int:
    value = float(text)
    if not math.isfinite(value) or value != int(value):
        raise ValueError(text)
    return int(value)


def _fmt(bound: float | None, default: str) -> str:
    if bound is None:
        return default
    if float(bound).is_integer() and abs(bound) < 1e15:
        return str(int(bound))  # 86400000, not 8.64e+07
    return f"{bound:g}"


# Shared by every command with -j/--workers: processes, each holding a model or renderer.
WORKERS = number(int, 1, 256)
# Milliseconds / frame indices into one video (a day at 1000 fps is far past any sign clip).
MILLISECONDS = number(float, 0, 86_400_000)
FRAME_INDEX = number(int, 0, 86_400_000)
# Signing speed (translate --speed, `StitchConfig.speed`): half speed for learners up to twice as fast.
SPEED_RANGE = (0.5, 2.0)
SPEED = number(float, *SPEED_RANGE)
# Shards of one extraction (`--shard K/N`, `--status N`): far more than any cluster's array size.
MAX_SHARDS = 1_000_000
SHARD_COUNT = number(int, 1, MAX_SHARDS)
