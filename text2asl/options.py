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


def add_settings(parser: argparse.ArgumentParser, settings_class, skip: set[str] = frozenset(),
                 title: str = "training settings (default: the preset's)") -> None:
    """One `--field-name` option for every field of the dataclass `settings_class` but `skip`, all defaulting to None.

    Ranges and choices come from the settings' own tables (diffusion.config.RANGES / CHOICES), help
    from each field's metadata; booleans get --x / --no-x, tuples take several values.
    """
    import dataclasses
    import typing

    from text2asl.diffusion.config import CHOICES, RANGES, flag, range_text

    hints = typing.get_type_hints(settings_class)
    group = parser.add_argument_group(title)
    for f in dataclasses.fields(settings_class):
        if f.name in skip:
            continue
        kind, help_ = hints[f.name], f.metadata.get("help", "")
        base = next((t for t in typing.get_args(kind) if t is not type(None)), kind)
        if kind is bool:
            group.add_argument(flag(f.name), action=argparse.BooleanOptionalAction, default=None, help=help_)
        elif f.name in CHOICES:
            group.add_argument(flag(f.name), choices=CHOICES[f.name], default=None, help=help_)
        elif f.name in RANGES:
            kind_, lo, hi, lo_open = RANGES[f.name]
            group.add_argument(flag(f.name), type=number(kind_, lo, hi, lo_open=lo_open), default=None,
                               metavar=base.__name__.upper(), help=f"{help_} {range_text(f.name)}".strip())
        elif typing.get_origin(kind) is tuple:
            item = typing.get_args(kind)[0]
            group.add_argument(flag(f.name), type=item, nargs="*", default=None, metavar=item.__name__.upper(),
                               help=help_)
        else:
            group.add_argument(flag(f.name), type=base, default=None, metavar=base.__name__.upper(), help=help_)


def settings_from_args(args: argparse.Namespace, settings_class, skip: set[str] = frozenset()) -> dict:
    """{field: value} of the `add_settings` options the user gave (None: not given, the preset's value stands)."""
    import dataclasses

    found = {f.name: getattr(args, f.name, None) for f in dataclasses.fields(settings_class) if f.name not in skip}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in found.items() if v is not None}
