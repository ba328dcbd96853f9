"""Read DCGM exporter metrics: Prometheus text exposition (one or several scrapes) or a
Prometheus HTTP API query result (`vector` or `matrix`), into samples per GPU.

Only the series right-sizing needs are kept: DCGM_FI_DEV_GPU_UTIL (percent),
DCGM_FI_DEV_FB_USED and DCGM_FI_DEV_FB_FREE (MiB), labelled per GPU (`Hostname`, `gpu`, `UUID`,
`modelName`, ...).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpuforge.errors import InputError
from gpuforge.files import MIB, load_json, read_text

MAX_METRICS_BYTES = 512 * MIB
UTIL = "DCGM_FI_DEV_GPU_UTIL"
FB_USED = "DCGM_FI_DEV_FB_USED"
FB_FREE = "DCGM_FI_DEV_FB_FREE"
WANTED = (UTIL, FB_USED, FB_FREE)
_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LINE = re.compile(rf"^({_NAME})(?:\{{(.*)\}})?\s+(\S+)(?:\s+(-?\d+))?\s*$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}
Sample = tuple[str, dict[str, str], float, float | None]


@dataclass
class GpuSeries:
    """Samples of one GPU: its host, index, model, and (timestamp, value) per metric."""

    host: str
    gpu: str
    model: str
    labels: dict[str, str]
    values: dict[str, list[tuple[float | None, float]]] = field(default_factory=dict)


def _labels(text: str, where: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _LABEL.match(text, pos)
        if not match:
            raise InputError(
                f"{where}: malformed labels near {text[pos : pos + 30]!r}",
                'write labels as name="value" pairs separated by commas',
            )
        value = re.sub(r"\\[\\\"n]", lambda m: _UNESCAPE[m.group(0)], match.group(2))
        labels[match.group(1)] = value
        pos = match.end()
    return labels


def _number(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{where}: {text!r} is not a sample value", "use a number") from None


def parse_exposition(text: str, name: str) -> list[Sample]:
    """Samples (metric, labels, value, timestamp in s or None) of the wanted DCGM series."""
    samples: list[Sample] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{name}:{number}"
        match = _LINE.match(stripped)
        if not match:
            raise InputError(
                f"{where}: not a Prometheus text exposition line",
                "give the exporter's /metrics output (metric{labels} value [timestamp])",
            )
        metric, labels, value, stamp = match.groups()
        if metric not in WANTED:
            continue
        samples.append(
            (
                metric,
                _labels(labels or "", where),
                _number(value, where),
                int(stamp) / 1000 if stamp else None,
            )
        )
    return samples


def parse_query_result(
    data: Any, name: str
) -> list[tuple[str, dict[str, str], float, float | None]]:
    """Samples of a Prometheus HTTP API answer (`/api/v1/query` or `/api/v1/query_range`)."""
    body = data.get("data") if isinstance(data, dict) else None
    if not isinstance(body, dict) or body.get("resultType") not in ("vector", "matrix"):
        raise InputError(
            f"{name}: not a Prometheus query result (data.resultType vector or matrix)",
            "save the JSON answer of /api/v1/query or /api/v1/query_range",
        )
    samples: list[Sample] = []
    for index, series in enumerate(body.get("result") or []):
        labels = {str(k): str(v) for k, v in (series.get("metric") or {}).items()}
        metric = labels.pop("__name__", "")
        if not metric:
            raise InputError(
                f"{name}: data.result[{index}] has no __name__ label",
                f"query the raw series, e.g. {UTIL}[7d], not an aggregate",
            )
        if metric not in WANTED:
            continue
        points = series.get("values") or ([series["value"]] if "value" in series else [])
        for point in points:
            where = f"{name}: data.result[{index}]"
            if not isinstance(point, list) or len(point) != 2:
                raise InputError(f"{where}: a sample is not [time, value]", "keep the API's shape")
            samples.append((metric, labels, _number(str(point[1]), where), float(point[0])))
    return samples


def load_gpu_series(path: Path) -> list[GpuSeries]:
    """Read a metrics file (exposition text or query JSON) into one series per GPU."""
    text = read_text(path, max_bytes=MAX_METRICS_BYTES, fix="give a DCGM exporter capture")
    if text.lstrip().startswith("{"):
        data = load_json(text, str(path), "give the Prometheus API's JSON answer unchanged")
        samples: list[Sample] = parse_query_result(data, str(path))
    else:
        samples = parse_exposition(text, str(path))
    gpus: dict[tuple[str, str], GpuSeries] = {}
    for metric, labels, value, stamp in samples:
        if math.isnan(value):
            continue
        host = labels.get("Hostname") or labels.get("instance", "")
        key = (host, labels.get("UUID") or labels.get("gpu", ""))
        series = gpus.setdefault(
            key, GpuSeries(host, labels.get("gpu", ""), labels.get("modelName", ""), labels)
        )
        series.values.setdefault(metric, []).append((stamp, value))
    if not gpus:
        raise InputError(
            f"{path}: no {UTIL} or {FB_USED} samples",
            "export the DCGM exporter's default counters (GPU_UTIL, FB_USED, FB_FREE)",
        )
    return list(gpus.values())
