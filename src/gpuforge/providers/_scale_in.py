"""Checks on the names a scale-in request carries: each cloud's documented identifier shapes.

The requests are argument lists, never shell lines; these checks keep a name from being read as
a CLI option or from naming something other than the group and instances gpuforge chose.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gpuforge.errors import InputError

__all__ = ["checked", "parts"]


def checked(what: str, values: Sequence[str], pattern: str, example: str) -> list[str]:
    """`values` when every one matches `pattern` in full; InputError naming the first that
    does not, with the shape it should have."""
    if not values:
        raise InputError(f"no {what} to remove", "name at least one node to remove")
    for value in values:
        if not re.fullmatch(pattern, value):
            raise InputError(f"{value!r} is not a valid {what}", f"give a {what} such as {example}")
    return list(values)


def parts(what: str, value: str, pattern: str, example: str) -> tuple[str, ...]:
    """The groups of `pattern` in `value` (a resource ID or path); InputError when it does not
    match in full."""
    match = re.fullmatch(pattern, value)
    if match is None:
        raise InputError(f"{value!r} is not a valid {what}", f"give a {what} such as {example}")
    return match.groups()
