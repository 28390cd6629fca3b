"""User text shown as itself: on the terminal, in error messages and in CSV cells.

An account name, a ticker, a file path, a value echoed in an error or a reason read back from a
proposal may hold characters a terminal obeys instead of showing (ESC sequences that clear the
screen or retitle the window, carriage returns and backspaces that overwrite a line, bidi
overrides that reorder it), code points no encoder accepts (a lone surrogate), or, in a CSV cell,
the start of a spreadsheet formula. Everything the tool shows of such text goes through here.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

# Control (C0, DEL, C1), format (bidi overrides, zero-width marks) and line/paragraph separators.
ESCAPED: Final = frozenset({"Cc", "Cf", "Zl", "Zp"})
REPLACEMENT: Final = "\ufffd"
# A spreadsheet reads a cell starting with one of these as a formula (OWASP, CSV injection).
FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
SURROGATE: Final = re.compile("[\ud800-\udfff]")
SHORT: Final = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}  # as Python's repr writes them


def plain(value: object, keep: str = "") -> str:
    """`value` as text that shows as itself: each control, format or separator character
    written as its Python escape (ESC as the four characters `\\x1b`, CR as `\\r`, U+202E as
    `\\u202e`), except those in `keep`; an invalid code point (a lone surrogate) as U+FFFD."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the common case: nothing to do
        return text
    return "".join(_shown(char, keep) for char in text)


def encodable(text: str) -> str:
    """`text` with each lone surrogate (from a YAML escape, or a file name's undecodable bytes)
    replaced by U+FFFD, so that it can be written as UTF-8; nothing else changed."""
    return SURROGATE.sub(REPLACEMENT, text)


def _shown(char: str, keep: str) -> str:
    if char in keep or char.isprintable():
        return char
    category = unicodedata.category(char)
    if category == "Cs":
        return REPLACEMENT
    if category not in ESCAPED:  # e.g. a no-break space, a private-use or unassigned code point
        return char
    if char in SHORT:
        return SHORT[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: a text cell starting like a formula gets a leading
    `'`, and its control characters are escaped (line breaks kept: the csv module quotes them).
    Numbers are left alone: a negative amount is a number, not a formula."""
    if not isinstance(value, str):
        return value
    shown = plain(value, keep="\n")
    return f"'{shown}" if value.startswith(FORMULA_START) else shown
