"""The simulated `nvidia-smi -q` prints the key set of real captures of the same driver
generation (tests/fixtures/validate/real/smi-q, copies of shared/reference/real-outputs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import make_node, run_tool

CAPTURES = Path(__file__).resolve().parents[2] / "fixtures/validate/real/smi-q"
# Keys under Processes exist only while a process runs; no process runs on a simulated GPU.
RUNTIME_ONLY = re.compile(r"^Processes/")


def key_paths(text: str) -> set[str]:
    """The key paths (section/key, joined by "/") of the first GPU block of `nvidia-smi -q`."""
    paths: set[str] = set()
    stack: list[str] = []
    in_gpu = False
    for line in text.splitlines():
        if line.startswith("GPU "):
            if in_gpu:
                break
            in_gpu = True
            continue
        if not in_gpu or not line.strip():
            continue
        body = line.lstrip(" ")
        depth = (len(line) - len(body)) // 4
        key = body.split(":", 1)[0].strip()
        stack = [*stack[: max(0, depth - 1)], key]
        paths.add("/".join(stack))
    return paths


def differences(simulated: set[str], real: set[str]) -> str:
    """The keys one side has and the other lacks, one per line, for the failure message."""
    lines = [f"missing: {k}" for k in sorted(real - simulated) if not RUNTIME_ONLY.match(k)]
    lines += [f"extra:   {k}" for k in sorted(simulated - real)]
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("capture", "profile", "driver"),
    [
        ("h100sxm-8gpu-a-drv565.txt", "hgx-h100-8", "565.57.01"),
        ("a100sxm80-8gpu-full-q-drv525.60-raw-file.txt", "hgx-a100-80-8", "525.60.13"),
    ],
)
def test_q_key_set_matches_the_real_capture(
    tmp_path: Path, capture: str, profile: str, driver: str
) -> None:
    real_text = (CAPTURES / capture).read_text()
    assert f"Driver Version                            : {driver}" in real_text
    node = make_node(tmp_path / "node", profile, driver=driver)
    done = run_tool(node, "nvidia_smi.py", "-q")
    assert done.returncode == 0, done.stderr
    assert differences(key_paths(done.stdout), key_paths(real_text)) == ""
