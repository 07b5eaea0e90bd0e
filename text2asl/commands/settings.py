"""Options derived from a settings dataclass: one `--field-name` per field, ranges and choices from its tables."""
from __future__ import annotations

import argparse

from text2asl.diffusion.ranges import CHOICES, RANGES, flag, range_text
from text2asl.options import number


def add_settings(parser: argparse.ArgumentParser, settings_class, skip: set[str] = frozenset(),
                 title: str = "training settings (default: the preset's)") -> None:
    """One `--field-name` option for every field of the dataclass `settings_class` but `skip`, all defaulting to None.

    Ranges and choices come from the settings' own tables (diffusion.ranges.RANGES / CHOICES), help
    from each field's metadata; booleans get --x / --no-x, tuples take several values.
    """
    import dataclasses
    import typing

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
