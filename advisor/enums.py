"""Closed sets of choices, as enums."""

from enum import StrEnum


class Sense(StrEnum):
    """Which way a limit binds: 'max' caps a measure, 'min' floors it."""

    MAX = "max"
    MIN = "min"
