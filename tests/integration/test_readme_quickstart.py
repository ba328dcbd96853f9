"""The README's first command, as written, from the checkout CI cloned (issue 22).

`bash scripts/setup.sh && gpuforge up examples/local.yaml` runs through `bash -c` with the
PATH a fresh root login has, no virtualenv active and a fresh HOME: `gpuforge` must come from
set-up's launcher, not from this interpreter. Set-up points /usr/local/bin/gpuforge at the
checkout that runs it, so the test runs only where that is the point: in CI (`CI=true`), on its
fresh clone. The fleet state folder is the test's own; the deployment folder is the one the
README's command makes, examples/.deploy/demo, refused if it exists already and removed, with
the cluster, at the end.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_up import REPO, UP_TIMEOUT_S, _payload
from test_up import pytestmark as fleet_marks

LOGIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SETUP_TIMEOUT_S = 900
DEPLOYMENT = REPO / "examples" / ".deploy" / "demo"

pytestmark = [
    *fleet_marks,
    pytest.mark.skipif(
        os.environ.get("CI") != "true",
        reason="set-up points /usr/local/bin/gpuforge at this checkout: CI only (CI=true)",
    ),
]


def _readme_command() -> str:
    """The quick start's first command, read from the README rather than repeated here."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^    (bash scripts/setup\.sh && gpuforge up \S+)$", text, re.M)
    assert found, "the README's quick start names set-up and `gpuforge up`"
    return found.group(1)


@pytest.fixture
def login_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A root login's environment with this test's own fleet and deployment folders."""
    env = {
        "PATH": LOGIN_PATH,
        "HOME": str(tmp_path / "home"),
        "LANG": "C.UTF-8",
        "GPUFORGE_FLEET_DIR": str(tmp_path / "fleet"),
    }
    Path(env["HOME"]).mkdir()
    assert not DEPLOYMENT.exists(), f"{DEPLOYMENT} exists: the test would take it over"
    try:
        yield env
    finally:
        # Cleaning up is not under test: this interpreter's gpuforge, then the fleet's own
        # teardown of whatever the destroy left.
        for command in (
            ["destroy", "examples/local.yaml", "--yes"],
            ["fleet", "down", "--cluster", "demo"],
        ):
            subprocess.run(
                [sys.executable, "-m", "gpuforge", *command],
                cwd=REPO,
                env=env,
                capture_output=True,
                timeout=UP_TIMEOUT_S,
                check=False,
            )
        shutil.rmtree(DEPLOYMENT, ignore_errors=True)
        with contextlib.suppress(OSError):
            DEPLOYMENT.parent.rmdir()


def test_the_readme_s_first_command_brings_up_the_example_from_a_login_shell(
    login_env: dict[str, str],
) -> None:
    command = _readme_command()
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=REPO,
        env=login_env,
        capture_output=True,
        text=True,
        timeout=SETUP_TIMEOUT_S + UP_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-3000:]
    assert re.search(r"^\s+validate\b.* ok: ready\s*$", done.stdout, re.M), done.stdout[-3000:]
    launcher = Path("/usr/local/bin/gpuforge").read_text(encoding="utf-8")
    assert str(REPO / ".venv" / "bin" / "gpuforge") in launcher

    shown = subprocess.run(
        ["gpuforge", "validate", "examples/local.yaml", "--json"],
        cwd=REPO,
        env=login_env,
        capture_output=True,
        text=True,
        timeout=UP_TIMEOUT_S,
        check=False,
    )
    report = _payload(shown.stdout)
    assert shown.returncode == 0 and report["ready"] is True, shown.stdout[-3000:]
    assert len(report["nodes"]) == 4
