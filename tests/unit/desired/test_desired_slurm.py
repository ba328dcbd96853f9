"""The slurm role in the desired state (issue 18): with `scheduler: slurm` every pool's nodes
must hold MUNGE and slurmd (packages, running units) and the Slurm files their pool decides;
without a scheduler nothing of Slurm is expected or rendered."""

from __future__ import annotations

import hashlib
from pathlib import Path

from gpuforge.check import read_lock
from gpuforge.desired import ROLES, desired_state
from gpuforge.desired._vars import SLURM_SPOT_DRAIN
from gpuforge.render import render_group_vars
from gpuforge.spec import load_spec_text

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _states(extra: str) -> tuple[dict[str, object], dict[str, str]]:
    text = (EXAMPLES / "local.yaml").read_text(encoding="utf-8") + extra
    spec = load_spec_text(text, "local.yaml").spec
    lock = read_lock(EXAMPLES / "local.lock")
    return dict(desired_state(spec, lock)), render_group_vars(spec, lock)


def test_slurm_role_runs_before_the_spot_watcher_and_validation() -> None:
    """The spot watcher drains through Slurm, so Slurm is set up before it."""
    assert ROLES[-3:] == ("slurm", "spot_watcher", "gpu_validation")


def test_slurm_nodes_must_run_munge_and_slurmd_with_their_gres() -> None:
    states, group_vars = _states("scheduler: {kind: slurm}\n")
    h100, a100 = states["h100"], states["a100"]
    for state in (h100, a100):
        assert "slurm" in state.roles  # type: ignore[attr-defined]
        units = {u.name: u.active for u in state.units if u.role == "slurm"}  # type: ignore[attr-defined]
        assert units == {"munge.service": True, "slurmd.service": True}
        packages = {p.name for p in state.packages if p.role == "slurm"}  # type: ignore[attr-defined]
        assert packages == {"munge", "slurm-client", "slurmd"}
    h100_files = {f.path: f.sha256 for f in h100.files if f.role == "slurm"}  # type: ignore[attr-defined]
    gres = "# Ansible managed\nName=gpu File=/dev/nvidia[0-7]\n"
    assert h100_files["/etc/slurm/gres.conf"] == hashlib.sha256(gres.encode()).hexdigest()
    # With MIG, gres.conf follows the instances the node reports: not a pool-wide file.
    a100_files = {f.path for f in a100.files if f.role == "slurm"}  # type: ignore[attr-defined]
    assert a100_files == {"/etc/slurm/cgroup.conf"}
    assert "gpuforge_enable_slurm: true" in group_vars["all.yml"]
    assert "slurm_mig:\n  !unsafe 3g.40gb: 2" in group_vars["pool_a100.yml"]


def test_without_a_scheduler_nothing_of_slurm() -> None:
    states, group_vars = _states("")
    for state in states.values():
        assert "slurm" not in state.roles  # type: ignore[attr-defined]
    assert not any("slurm" in text for text in group_vars.values())


def test_a_spot_node_of_a_slurm_cluster_drains_itself_through_scontrol() -> None:
    """Only where Slurm runs: the spot watcher's drain command is Slurm's, else none."""
    spot = "    market: spot\n    count: 2\n"

    def drain_settings(extra: str) -> str:
        """The spot watcher's drain command as group_vars render it (empty when not set)."""
        text = (EXAMPLES / "local.yaml").read_text(encoding="utf-8")
        text = text.replace("    count: 2\n", spot, 1) + extra
        spec = load_spec_text(text, "local.yaml").spec
        rendered = render_group_vars(spec, read_lock(EXAMPLES / "local.lock"))
        bodies = [body for body in rendered.values() if "spot_watcher_drain_command" in body]
        if not bodies:
            return ""
        [body] = bodies
        after = body[body.index("spot_watcher_drain_command:") :].splitlines()[1:]
        return "\n".join(after[: len(SLURM_SPOT_DRAIN)])

    assert drain_settings("") == ""
    with_slurm = drain_settings("scheduler: {kind: slurm}\n")
    for argument in SLURM_SPOT_DRAIN:
        assert argument in with_slurm
