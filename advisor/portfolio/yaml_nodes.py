"""Composing a portfolio file's YAML nodes fast: libyaml's C parser where that is safe.

ruamel.yaml's pure-Python composer takes about 30 ms for a 50-holding file, most of the time of
scoring one account in a batch; libyaml (through PyYAML) takes about 1 ms. libyaml resolves plain
scalars by YAML 1.1 rules (`ON`, `yes` are booleans there, strings in YAML 1.2), so only the tree
and the line marks are taken from it: every plain scalar's tag is resolved again by ruamel's
YAML 1.2 resolver, and the result is the ruamel node tree ruamel itself would compose. A file
with anything the two could read differently (tags, anchors, aliases, merge keys, directives,
tabs) or that libyaml rejects is composed by ruamel, so errors read the same either way.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# PyYAML's C loader, where PyYAML was built with libyaml; without it every file goes to ruamel.
_CLoader: Any = getattr(pyyaml, "CSafeLoader", None)

# Anything that may read differently in libyaml and ruamel beyond plain scalars' types, or that
# the converter must see exactly as ruamel composes it: anchors, aliases and tags (a token that
# starts after a character that is not a letter or digit, so 'S&P 500' and 'AT&T' stay fast),
# directives, merge keys, tabs, document markers, a quoted key with no space before its value
# (libyaml takes ["a":1], ruamel does not) and line separators (libyaml counts them as lines).
_RUAMEL_ONLY = re.compile(
    r"(?<![A-Za-z0-9])[&*!]|^%|<<|\t|^---|^\.\.\.|[\"']:\S|[\u2028\u2029]", re.MULTILINE
)


def compose(yaml: YAML, text: str) -> Node | None:
    """The document's root node, as `yaml.compose(text)` gives it (None when empty)."""
    if _CLoader is None or _RUAMEL_ONLY.search(text):
        composed: Node | None = yaml.compose(text)
        return composed
    try:
        root = pyyaml.compose(text, Loader=_CLoader)
    except pyyaml.YAMLError:
        node: Node | None = yaml.compose(text)  # ruamel raises the error the user sees
        return node
    return None if root is None else _translate(yaml, root)


def deep_line(raw: bytes, max_depth: int) -> int | None:
    """The line where flow brackets first nest more than `max_depth` deep, else None.

    Checked before composing, since the composers take seconds to fail on a megabyte of
    brackets. Quotes are not told apart: no file of this project has 20 brackets open, in
    quotes or not. Counted in numpy: a loop over a megabyte in Python takes a second.
    """
    codes = np.frombuffer(raw, dtype=np.uint8)
    steps = np.zeros(len(codes), dtype=np.int32)
    steps[(codes == ord("[")) | (codes == ord("{"))] = 1
    steps[(codes == ord("]")) | (codes == ord("}"))] = -1
    deep = np.flatnonzero(np.cumsum(steps) > max_depth)
    return None if not len(deep) else raw.count(b"\n", 0, int(deep[0])) + 1


class TooLarge(ValueError):
    """A document nested too deeply, or whose aliases expand to too many values."""


def load(text: str, max_values: int = 100_000, max_depth: int = 20) -> Any:
    """Plain Python data from a YAML text, as ruamel's safe loader reads it, composed fast.

    Refused (TooLarge) when it nests deeper than `max_depth` or expands to more than
    `max_values` nodes: an alias is a reference when composed, but constructing copies it, so a
    few lines of nested aliases would otherwise construct billions of values.
    """
    deep = deep_line(text.encode("utf-8"), max_depth)
    if deep is not None:
        raise TooLarge(f"nests more than {max_depth} levels deep (line {deep})")
    yaml = YAML(typ="safe", pure=True)
    try:
        node = compose(yaml, text)
        if node is not None:
            _measure(node, max_values, max_depth, {}, 1)
    except RecursionError:
        raise TooLarge(f"nests more than {max_depth} levels deep") from None
    return None if node is None else yaml.constructor.construct_document(node)


def _measure(node: Node, max_values: int, max_depth: int, sizes: dict[int, int], depth: int) -> int:
    """How many nodes `node` expands to, aliases counted each time they are used."""
    if depth > max_depth:
        raise TooLarge(f"nests more than {max_depth} levels deep (line {node.start_mark.line + 1})")
    if id(node) in sizes:
        return sizes[id(node)]
    sizes[id(node)] = max_values + 1  # an alias inside itself: a loop, refused as too large
    children: list[Node] = []
    if isinstance(node, SequenceNode):
        children = list(node.value)
    elif isinstance(node, MappingNode):
        children = [part for pair in node.value for part in pair]
    size = 1 + sum(_measure(child, max_values, max_depth, sizes, depth + 1) for child in children)
    if size > max_values:
        raise TooLarge(f"expands to more than {max_values:,} values")
    sizes[id(node)] = size
    return size


def _translate(yaml: YAML, node: Any) -> Node:
    if isinstance(node, pyyaml.ScalarNode):
        style = node.style or None  # libyaml says '' for plain, the Python parsers None
        plain = style is None
        tag = yaml.resolver.resolve(ScalarNode, node.value, (plain, not plain))
        return ScalarNode(tag, node.value, node.start_mark, node.end_mark, style=style)
    if isinstance(node, pyyaml.SequenceNode):
        items = [_translate(yaml, item) for item in node.value]
        return SequenceNode(node.tag, items, node.start_mark, node.end_mark, node.flow_style)
    pairs = [(_translate(yaml, k), _translate(yaml, v)) for k, v in node.value]
    return MappingNode(node.tag, pairs, node.start_mark, node.end_mark, node.flow_style)
