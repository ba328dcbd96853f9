"""The simulated `nvidia-smi -q` prints the key set of every real capture
(tests/fixtures/validate/real/smi-q, copies of shared/reference/real-outputs): each capture is
compared with the simulator at the capture's own driver version, on the profile of the capture's
GPU generation, and every difference is listed.

For the H100 (R565) and A100 (R525) captures the simulator has no difference, and for the H100
with MIG (R590) only the VM's `Remapped Rows : N/A`. The differences still open are written down
in tests/fixtures/smi-q-gaps/<capture>, and the test fails when one appears or goes, so the list
stays exact.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import make_node, run_tool

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CAPTURES = FIXTURES / "validate/real/smi-q"
GAPS = FIXTURES / "smi-q-gaps"
# Keys under Processes exist only while a process runs; no process runs on a simulated GPU.
RUNTIME_ONLY = re.compile(r"^Processes/")
# Capture -> (profile of the same GPU generation, driver version, MIG mode on GPU 0). The Titan V
# capture (Volta, 560.35.03) has no profile of its generation and is left out.
CASES = {
    "h100sxm-8gpu-a-drv565.txt": ("hgx-h100-8", "565.57.01", False),
    "h100-mig-full-q-drv590.txt": ("hgx-h100-8", "590.48.01", True),
    "a100sxm80-8gpu-full-q-drv525.60-raw-file.txt": ("hgx-a100-80-8", "525.60.13", False),
    "a10-1gpu-full-q-drv535.129.txt": ("a10g-1", "535.129.03", False),
    "rtx2080super-full-q-drv610.txt": ("t4-1", "610.57.04", False),
}


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


def differences(simulated: set[str], real: set[str]) -> list[str]:
    """The keys the capture has and the simulator lacks (`missing:`), then the reverse."""
    lines = [f"missing: {k}" for k in sorted(real - simulated) if not RUNTIME_ONLY.match(k)]
    return lines + [f"extra:   {k}" for k in sorted(simulated - real)]


def simulated_q(tmp_path: Path, profile: str, driver: str, mig: bool) -> str:
    """`nvidia-smi -q` of a seeded node with `driver` installed; with `mig`, GPU 0 in MIG mode
    with the capture's four instances (3g, 2g and two 1g, each with its compute instance)."""
    node = make_node(tmp_path / "node", profile, driver=driver)
    if mig:
        assert run_tool(node, "nvidia_smi.py", "-i", "0", "-mig", "1").returncode == 0
        layout = "3g.40gb,2g.20gb,1g.10gb,1g.10gb"
        done = run_tool(node, "nvidia_smi.py", "mig", "-i", "0", "-cgi", layout, "-C")
        assert done.returncode == 0, done.stdout + done.stderr
    done = run_tool(node, "nvidia_smi.py", "-q")
    assert done.returncode == 0, done.stderr
    return done.stdout


def known_gaps(capture: str) -> list[str]:
    """The differences written down for `capture` (none when it has no file)."""
    path = GAPS / capture
    lines = path.read_text().splitlines() if path.is_file() else []
    return [line for line in lines if line and not line.startswith("#")]


@pytest.mark.parametrize("capture", sorted(CASES))
def test_q_key_set_matches_each_real_capture(tmp_path: Path, capture: str) -> None:
    profile, driver, mig = CASES[capture]
    real_text = (CAPTURES / capture).read_text()
    assert re.search(rf"^Driver Version\s+: {re.escape(driver)}\b", real_text, re.MULTILINE)
    simulated = simulated_q(tmp_path, profile, driver, mig)
    found = differences(key_paths(simulated), key_paths(real_text))
    assert "\n".join(found) == "\n".join(known_gaps(capture)), (
        f"{capture} vs the simulator ({profile}, {driver}); update {GAPS / capture} "
        "only when a difference was meant to open or close"
    )


def test_the_h100_and_a100_profiles_have_no_gap() -> None:
    for capture, (profile, _, _) in CASES.items():
        if profile in ("hgx-h100-8", "hgx-a100-80-8") and "mig" not in capture:
            assert known_gaps(capture) == [], capture


def test_a_key_the_simulator_drops_is_listed(tmp_path: Path) -> None:
    """A key removed from the simulator's report shows up as missing, with its sub-keys."""
    text = simulated_q(tmp_path, "hgx-h100-8", "565.57.01", False)
    real = key_paths((CAPTURES / "h100sxm-8gpu-a-drv565.txt").read_text())
    dropped = re.sub(r"(?m)^    Product Brand .*\n", "", text)
    assert differences(key_paths(dropped), real) == ["missing: Product Brand"]
