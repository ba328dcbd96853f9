"""Parser for `dcgmi diag -r N -j`, DCGM's JSON document of a diagnostic run.

The same `DcgmDiag` as the table parser: one test per entry of each category's `tests`, its
per-GPU results (entries with `gpu_id`) and its warnings and info texts as messages. Where a
collector saved the JSON form, `parse_dcgm_output` reads it, and the table otherwise (drivers
and DCGM releases that print only the table).
"""

from __future__ import annotations

import json
import re
from typing import Any

from gpuforge.validate._dcgm import DcgmDiag, DcgmMessage, DcgmTest, parse_dcgmi_diag

_GPU_IN_TEXT = re.compile(r"\bGPU\s?(?P<gpu>\d+)\b")
_ORDER = ("Fail", "Warn", "Pass", "Skip")


def _status(word: object) -> str:
    text = str(word).strip().capitalize()
    return "Warn" if text.startswith("Warn") else text


def _messages(result: dict[str, Any]) -> list[DcgmMessage]:
    found = []
    for kind, key in (("Warning", "warnings"), ("Info", "info")):
        for item in result.get(key) or []:
            text = str(item.get("warning", "")) if isinstance(item, dict) else str(item)
            gpu = result.get("gpu_id")
            if gpu is None:
                named = _GPU_IN_TEXT.search(text)
                gpu = named.group("gpu") if named else None
            found.append(DcgmMessage(kind, " ".join(text.split()), int(gpu) if gpu else None))
    return found


def _test(category: str, entry: dict[str, Any]) -> DcgmTest:
    results = [r for r in entry.get("results") or [] if isinstance(r, dict)]
    per_gpu = {int(r["gpu_id"]): _status(r.get("status")) for r in results if "gpu_id" in r}
    statuses = [_status(r.get("status")) for r in results] or ["Skip"]
    overall = next((s for s in _ORDER if s in statuses), statuses[0])
    messages = tuple(m for r in results for m in _messages(r))
    return DcgmTest(str(entry.get("name", "")), category, overall, None, per_gpu, messages)


def parse_dcgmi_diag_json(text: str) -> DcgmDiag:
    """Read `dcgmi diag -j` output into tests; a document of another shape becomes a warning."""
    try:
        doc = json.loads(text)
        categories = doc["DCGM GPU Diagnostic"]["test_categories"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return DcgmDiag((), {}, ("not a `dcgmi diag -j` JSON document",))
    tests = [
        _test(str(category.get("category", "")), entry)
        for category in categories
        for entry in category.get("tests") or []
        if isinstance(entry, dict)
    ]
    metadata = {}
    if "version" in doc:
        metadata["DCGM Version"] = str(doc["version"])
    if "Driver Version Detected" in doc:
        metadata["Driver Version Detected"] = str(doc["Driver Version Detected"])
    if "GPU Device IDs" in doc:
        metadata["GPU Device IDs Detected"] = ",".join(str(i) for i in doc["GPU Device IDs"])
    warnings = () if tests else ("no diagnostic results found",)
    return DcgmDiag(tuple(tests), metadata, warnings)


def parse_dcgm_output(text: str) -> DcgmDiag:
    """The JSON form when the collector saved it (`diag -j`), else the table."""
    return parse_dcgmi_diag_json(text) if text.lstrip().startswith("{") else parse_dcgmi_diag(text)
