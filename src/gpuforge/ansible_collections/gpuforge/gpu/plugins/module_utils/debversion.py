# Copyright: gpuforge maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Debian version strings: ordering (as `dpkg --compare-versions`) and pin patterns (`580.95*`)."""

from __future__ import annotations

import fnmatch
import re
from typing import Iterable

_EPOCH = re.compile(r"^(\d+):")
_PART = re.compile(r"(\D*)(\d*)")


def _split(version: str) -> tuple[int, str, str]:
    """(epoch, upstream, revision) of a Debian version; a missing epoch is 0, revision ''."""
    match = _EPOCH.match(version)
    epoch = int(match.group(1)) if match else 0
    rest = version[match.end() :] if match else version
    upstream, sep, revision = rest.rpartition("-")
    if not sep:
        return epoch, rest, ""
    return epoch, upstream, revision


def _char_order(char: str) -> int:
    """dpkg's order of one non-digit character: ~ first, then end of string, letters, the rest."""
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _compare_text(left: str, right: str) -> int:
    for index in range(max(len(left), len(right))):
        a = _char_order(left[index]) if index < len(left) else 0
        b = _char_order(right[index]) if index < len(right) else 0
        if a != b:
            return -1 if a < b else 1
    return 0


def _compare_part(left: str, right: str) -> int:
    """Compare one upstream or revision string by dpkg's alternating text/number rule."""
    left_parts = _PART.findall(left)
    right_parts = _PART.findall(right)
    for index in range(max(len(left_parts), len(right_parts))):
        text_a, num_a = left_parts[index] if index < len(left_parts) else ("", "")
        text_b, num_b = right_parts[index] if index < len(right_parts) else ("", "")
        order = _compare_text(text_a, text_b)
        if order:
            return order
        a, b = int(num_a or 0), int(num_b or 0)
        if a != b:
            return -1 if a < b else 1
    return 0


def compare_versions(left: str, right: str) -> int:
    """-1, 0 or 1 as `left` sorts before, equal to or after `right` in dpkg's order."""
    epoch_a, upstream_a, revision_a = _split(left)
    epoch_b, upstream_b, revision_b = _split(right)
    if epoch_a != epoch_b:
        return -1 if epoch_a < epoch_b else 1
    return _compare_part(upstream_a, upstream_b) or _compare_part(revision_a, revision_b)


def matches(version: str, pattern: str) -> bool:
    """Whether an installed or available `version` satisfies a pin `pattern` (`*` globs, as APT's).

    A pattern without an epoch matches a version with one (`4.2*` matches `1:4.2.3-1`), as
    `apt-get install pkg=4.2*` does not require the epoch either.
    """
    if not pattern:
        return True
    if fnmatch.fnmatchcase(version, pattern):
        return True
    return ":" not in pattern and fnmatch.fnmatchcase(_EPOCH.sub("", version), pattern)


def best_match(versions: Iterable[str], pattern: str) -> str | None:
    """The highest of `versions` that satisfies `pattern`, or None."""
    best: str | None = None
    for version in versions:
        if matches(version, pattern) and (best is None or compare_versions(version, best) > 0):
            best = version
    return best
