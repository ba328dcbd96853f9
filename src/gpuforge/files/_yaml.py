"""Parse untrusted YAML and JSON text into plain data, or a located FileError.

YAML is first composed into nodes (nothing constructed) and refused when its aliases would
expand beyond a small budget ("billion laughs"), refer to themselves, or when a node carries a
tag other than the core schema's (`!!python/...`, local `!tags`): only then is it loaded.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from gpuforge.errors import FileError, Location, Problem
from gpuforge.files._read import position_of

__all__ = ["ALIAS_BUDGET", "check_yaml", "load_json", "load_yaml"]

# Nodes that aliases may add to a document beyond those written in it: generous for a spec that
# reuses a few blocks, while a 342-byte "billion laughs" asks for hundreds of millions.
ALIAS_BUDGET = 10_000
_MAX_NUMBER_DIGITS = 100
_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(
    _CORE + name for name in ("str", "int", "float", "bool", "null", "map", "seq", "merge")
) | {_CORE + "timestamp"}
_SYNTAX_FIX = "fix the YAML syntax at this position"
# Flow collections ([...], {...}) nested deeper than this are refused before the parser sees them:
# a spec needs a handful of levels, and the parser takes seconds over thousands.
MAX_FLOW_DEPTH = 64
_FLOW_OPEN = frozenset("[{")
_FLOW_SIGNIFICANT = re.compile(r"[\[\]{}'\"#\n]")


def _located(file: str, mark: Any, message: str, fix: str, field: str = "") -> FileError:
    if mark is None:
        return FileError([Problem(Location(file, path=field), message, fix)])
    return FileError([Problem(Location(file, mark.line + 1, mark.column + 1, field), message, fix)])


def _children(node: Node, path: str) -> list[tuple[str, Node]]:
    """Each child with its field path (`a.b[0]`); a mapping's keys sit at the mapping's path."""
    if isinstance(node, MappingNode):
        found: list[tuple[str, Node]] = []
        for key, value in node.value:
            label = key.value if isinstance(key, ScalarNode) else "?"
            found += [(path, key), (f"{path}.{label}" if path else str(label), value)]
        return found
    if isinstance(node, SequenceNode):
        return [(f"{path}[{index}]", child) for index, child in enumerate(node.value)]
    return []


def _check_node(node: Node, file: str, path: str) -> None:
    if isinstance(node, MappingNode):
        for key, _ in node.value:
            if not isinstance(key, ScalarNode):
                raise _located(
                    file,
                    key.start_mark,
                    "a key must be a plain value, not a list or mapping",
                    "write the key as text",
                    path,
                )
    if node.tag not in _ALLOWED_TAGS:
        shown = str(node.tag).replace(_CORE, "!!")
        raise _located(
            file,
            node.start_mark,
            f"tag `{shown}` is not allowed: files are plain data",
            "remove the tag and write the value itself",
            path,
        )
    if (
        isinstance(node, ScalarNode)
        and node.tag in (_CORE + "int", _CORE + "float")
        and len(node.value) > _MAX_NUMBER_DIGITS
    ):
        raise _located(
            file,
            node.start_mark,
            f"number with more than {_MAX_NUMBER_DIGITS} digits",
            "write a realistic value",
            path,
        )


def _check_graph(root: Node, file: str) -> None:
    """Walk the composed graph once per distinct node, summing what aliases would expand to."""
    sizes: dict[int, int] = {}
    ancestors: set[int] = set()
    stack: list[tuple[Node, str, bool]] = [(root, "", False)]
    while stack:
        node, path, finished = stack.pop()
        key = id(node)
        if finished:
            ancestors.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for _, child in _children(node, path))
            if sizes[key] - len(sizes) > ALIAS_BUDGET:
                raise _located(
                    file,
                    node.start_mark,
                    f"aliases expand to more than {ALIAS_BUDGET} extra nodes (an alias bomb?)",
                    "write the repeated blocks out, or reuse fewer anchors",
                    path,
                )
            continue
        if key in sizes:
            continue
        if key in ancestors:
            raise _located(
                file,
                node.start_mark,
                "an alias refers to a block that contains it (infinite recursion)",
                "remove the alias inside its own anchor",
                path,
            )
        _check_node(node, file, path)
        ancestors.add(key)
        stack.append((node, path, True))
        stack.extend((child, child_path, False) for child_path, child in _children(node, path))


def _yaml_error(error: BaseException, text: str, file: str) -> FileError:
    if isinstance(error, MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        return _located(file, mark, f"invalid YAML: {error.problem or error.context}", _SYNTAX_FIX)
    if isinstance(error, ReaderError):
        line, column = position_of(text, error.position)
        code = error.character if isinstance(error.character, int) else ord(error.character)
        return FileError(
            [
                Problem(
                    Location(file, line, column),
                    f"control character U+{code:04X} is not allowed in YAML",
                    "remove it (write it escaped inside a double-quoted string if you need it)",
                )
            ]
        )
    if isinstance(error, RecursionError):
        return FileError([Problem(Location(file), "document nests too deeply", "flatten it")])
    return FileError([Problem(Location(file), f"invalid YAML: {error}", "fix the YAML syntax")])


def _deepest_flow_line(text: str) -> int:
    """1-based line where flow brackets first nest deeper than MAX_FLOW_DEPTH, 0 when never.

    Quoted strings and comments are skipped; a stray bracket inside a plain scalar only counts
    towards the limit, which no real spec comes near."""
    if sum(text.count(c) for c in _FLOW_OPEN) <= MAX_FLOW_DEPTH:
        return 0
    depth, line, quote, comment = 0, 1, "", False
    for found in _FLOW_SIGNIFICANT.finditer(text):
        char, index = found.group(), found.start()
        if char == "\n":
            line, comment = line + 1, False
        elif comment:
            continue
        elif quote:
            if char == quote and not (quote == '"' and text[index - 1] == "\\"):
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#":
            comment = index == 0 or text[index - 1] in " \t\n"
        elif char in _FLOW_OPEN:
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                return line
        else:
            depth = max(0, depth - 1)
    return 0


def check_yaml(text: str, file: str) -> None:
    """Compose YAML `text` without constructing anything and refuse what must never be loaded:
    syntax errors, deep nesting, alias bombs, recursive aliases, non-core tags, absurdly long
    numbers."""
    deep = _deepest_flow_line(text)
    if deep:
        message = f"document nests too deeply (over {MAX_FLOW_DEPTH} levels of [ ] or {{ }})"
        raise FileError([Problem(Location(file, deep), message, "flatten it")])
    yaml = YAML(typ="safe", pure=True)
    try:
        root = yaml.compose(text)
    except (YAMLError, RecursionError) as error:
        raise _yaml_error(error, text, file) from None
    if root is not None:
        _check_graph(root, file)


def load_yaml(text: str, file: str, fix: str = "") -> Any:
    """Plain Python data of YAML `text`, checked first by `check_yaml`; FileError on any problem,
    its hint replaced by `fix` when given (for files gpuforge writes, which users do not edit)."""
    try:
        check_yaml(text, file)
        try:
            return YAML(typ="safe", pure=True).load(text)
        except (YAMLError, ValueError, TypeError, RecursionError) as error:
            raise _yaml_error(error, text, file) from None
    except FileError as error:
        if not fix:
            raise
        raise FileError([replace(p, fix=fix) for p in error.problems]) from None


def load_json(text: str, file: str, fix: str) -> Any:
    """Plain Python data of JSON `text`; FileError with the line and column of a syntax error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        where = Location(file, error.lineno, error.colno)
        raise FileError([Problem(where, f"invalid JSON: {error.msg}", fix)]) from None
    except (ValueError, RecursionError) as error:
        message = "document nests too deeply" if isinstance(error, RecursionError) else str(error)
        raise FileError([Problem(Location(file), f"invalid JSON: {message}", fix)]) from None
