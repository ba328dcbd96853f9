"""Each cloud's rules for resource labels (AWS tags, Azure tags, GCP labels).

A pool's `labels` become tags or labels of its machines; a rule broken here would be refused by
the cloud's API in the middle of `up`, so the spec refuses it first.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from gpuforge.spec._text import control_character

LabelRule = Callable[[str, str], str | None]

_GCP_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_GCP_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
# AWS: letters and digits in any script, spaces and + - = . _ : / @.
_AWS_TEXT = re.compile(r"^[\w +\-=.:/@]*$")
_AZURE_KEY_FORBIDDEN = set("<>%&\\?/")


def _gcp(key: str, value: str) -> str | None:
    if not _GCP_KEY.match(key):
        return (
            f"GCP label key {key!r} is not allowed; use at most 63 lowercase letters, digits, "
            "_ and -, starting with a letter (e.g. team)"
        )
    if not _GCP_VALUE.match(value):
        return (
            f"GCP label value {value!r} (key {key!r}) is not allowed; use at most 63 lowercase "
            "letters, digits, _ and - (e.g. ml-research)"
        )
    return None


def _aws(key: str, value: str) -> str | None:
    if not 1 <= len(key) <= 128 or not _AWS_TEXT.match(key):
        return (
            f"AWS tag key {key!r} is not allowed; use 1 to 128 letters, digits, spaces and "
            "+ - = . _ : / @ (e.g. team)"
        )
    if key.lower().startswith("aws:"):
        return f"AWS tag key {key!r} uses the reserved prefix aws:; choose another key"
    if len(value) > 256 or not _AWS_TEXT.match(value):
        return (
            f"AWS tag value {value!r} (key {key!r}) is not allowed; use at most 256 letters, "
            "digits, spaces and + - = . _ : / @"
        )
    return None


def _azure(key: str, value: str) -> str | None:
    if not 1 <= len(key) <= 512 or _AZURE_KEY_FORBIDDEN & set(key):
        return (
            f"Azure tag key {key!r} is not allowed; use 1 to 512 characters without "
            "< > % & \\ ? / (e.g. team)"
        )
    if len(value) > 256:
        return f"Azure tag value of key {key!r} is longer than 256 characters; shorten it"
    return None


def _general(key: str, value: str) -> str | None:
    if not 1 <= len(key) <= 128 or len(value) > 256:
        return f"label {key!r} is too long; keep keys to 128 and values to 256 characters"
    return None


_RULES: dict[str, LabelRule] = {"aws": _aws, "azure": _azure, "gcp": _gcp}


def label_problem(provider: str, key: str, value: str) -> str | None:
    """Why `key: value` cannot label a machine on `provider` ("what; fix"), or None if it can."""
    for text in (key, value):
        found = control_character(text)
        if found is not None:
            return (
                f"label {key!r} contains the control character {found}; "
                "write labels on one line without control characters"
            )
    return _RULES.get(provider, _general)(key, value)
