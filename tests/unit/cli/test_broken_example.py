"""`examples/broken.yaml` says what `check` reports for it: a finding on every line marked BAD,
and no other line promises one."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

BROKEN = Path(__file__).resolve().parents[3] / "examples" / "broken.yaml"
GPUFORGE = Path(sys.executable).parent / "gpuforge"


def test_every_line_marked_bad_has_a_finding_and_nothing_else_is_promised() -> None:
    done = subprocess.run(
        [str(GPUFORGE), "check", str(BROKEN), "--json"], capture_output=True, text=True
    )
    assert done.returncode == 1, done.stderr
    findings = json.loads(done.stdout)["result"]["findings"]
    lines = BROKEN.read_text().splitlines()
    marked = {n for n, line in enumerate(lines, 1) if "# BAD" in line}
    # A finding points at the marked line or the key just above it (`gpu:` for its model).
    near = {line + d for f in findings for line in [f["line"]] for d in (-1, 0, 1)}
    assert marked <= near, f"lines marked BAD without a finding: {sorted(marked - near)}"
    promised = {
        n
        for n, line in enumerate(lines, 1)
        if re.search(r"#.*\b(warn|past end of life|would run)", line)
        and not re.search(r"\bno\b.*warning|can follow", line + lines[min(n, len(lines) - 1)])
    }
    warned = {f["line"] for f in findings if f["severity"] == "warning"}
    assert promised <= warned, f"comments promise warnings on lines {sorted(promised - warned)}"
