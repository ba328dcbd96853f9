"""A small HCL writer whose output is already `terraform fmt` clean.

Blocks hold attributes, nested blocks and blank lines. Consecutive single-line attributes align
their `=` as `terraform fmt` does; values are written as HCL literals or raw expressions.
Every string (values, map keys, block labels) is written by `quoted`, which escapes HCL's
template sequences, so Terraform reads spec text literally and never evaluates it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

INDENT = "  "
# Map keys written without quotes: ASCII identifiers only (`½` is alphanumeric to Python, not
# an identifier to HCL).
_BARE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quoted(text: str) -> str:
    """`text` as an HCL quoted string that evaluates to exactly `text`.

    Quotes, backslashes and control characters are escaped, and `${`/`%{` become `$${`/`%%{`
    so no spec value is read as an interpolation or directive. Other characters (emoji
    included) are written as themselves: HCL reads UTF-8 but not JSON's surrogate pairs.
    """
    parts = []
    for char in text:
        if char in _ESCAPES:
            parts.append(_ESCAPES[char])
        elif unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            parts.append(f"\\u{ord(char):04x}")
        else:
            parts.append(char)
    body = "".join(parts).replace("${", "$${").replace("%{", "%%{")
    return f'"{body}"'


@dataclass(frozen=True)
class Expr:
    """A raw HCL expression written as is (`var.region`, `module.a.nodes`)."""

    text: str


Value = str | int | float | bool | None | Expr | Sequence["Value"] | Mapping[str, "Value"]


def literal(value: Value, depth: int = 0) -> str:
    """Render a Python value as an HCL literal; maps become multi-line object constructors."""
    if isinstance(value, Expr):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, Sequence):
        return "[" + ", ".join(literal(item, depth) for item in value) + "]"
    if not value:
        return "{}"
    pairs = [(_key(k), literal(item, depth + 1)) for k, item in value.items()]
    lines = aligned(pairs, INDENT * (depth + 1))
    return "{\n" + "\n".join(lines) + "\n" + INDENT * depth + "}"


def aligned(pairs: list[tuple[str, str]], pad: str) -> list[str]:
    """`key = value` lines with `=` aligned per run of single-line values, as fmt does."""
    lines: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _ in run), default=0)
        lines.extend(f"{pad}{key.ljust(width)} = {text}" for key, text in run)
        run.clear()

    for key, text in pairs:
        if "\n" in text:
            flush()
            lines.append(f"{pad}{key} = {text}")
        else:
            run.append((key, text))
    flush()
    return lines


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else quoted(name)


@dataclass
class Block:
    """`type "label" ... { body }` with attributes, nested blocks and blank separators."""

    type: str
    labels: tuple[str, ...] = ()
    body: list[tuple[str, Value] | Block | None] = field(default_factory=list)

    def attr(self, name: str, value: Value) -> Block:
        """Append `name = value` and return self, for chaining."""
        self.body.append((name, value))
        return self

    def blank(self) -> Block:
        """Append a blank line, which also ends an alignment group."""
        self.body.append(None)
        return self

    def block(self, child: Block) -> Block:
        """Append a nested block."""
        self.body.append(child)
        return self

    def render(self, depth: int = 0) -> str:
        """The block as formatted HCL text."""
        pad = INDENT * depth
        head = " ".join([self.type, *(quoted(label) for label in self.labels)])
        lines = [f"{pad}{head} {{"]
        pairs: list[tuple[str, str]] = []

        def flush() -> None:
            lines.extend(aligned(pairs, pad + INDENT))
            pairs.clear()

        previous_was_block = False
        for item in self.body:
            if item is None:
                flush()
                lines.append("")
                previous_was_block = False
            elif isinstance(item, Block):
                flush()
                if len(lines) > 1 and lines[-1] != "" and not previous_was_block:
                    lines.append("")
                lines.append(item.render(depth + 1))
                previous_was_block = True
            else:
                if previous_was_block:
                    lines.append("")
                    previous_was_block = False
                pairs.append((item[0], literal(item[1], depth + 1)))
        flush()
        lines.append(f"{pad}}}")
        return "\n".join(lines)


def render_file(blocks: list[Block], header: str = "") -> str:
    """Blocks separated by blank lines, with an optional comment header, newline-terminated."""
    parts = [header.rstrip("\n")] if header else []
    parts.extend(block.render() for block in blocks)
    return "\n\n".join(parts) + "\n"
