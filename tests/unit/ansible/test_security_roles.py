"""The security side of the roles (issue 24): hardening's firewall is built from the cluster's
nodes and ports, and the MPS daemon runs as the spec's user with its folders for its group."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from local_play import REPO, run_local

from gpuforge.check import make_context, solve_lock
from gpuforge.desired import pool_vars
from gpuforge.errors import InputError
from gpuforge.spec import load_spec

# The address the play connects from (the controller), as SSH sets it for the node's processes.
CONTROLLER = {"SSH_CLIENT": "10.1.0.1 50000 22"}
ROLES = REPO / "src" / "gpuforge" / "ansible_collections" / "gpuforge" / "gpu" / "roles"
EXAMPLES = REPO / "examples"
AS_OF = date(2026, 11, 28)


def _render(tmp_path: Path, role: str, template: str, variables: dict[str, Any]) -> str:
    """Render one template of `role` with its defaults, its vars and `variables` over two hosts."""
    playbook = tmp_path / "play.yml"
    role_dir = ROLES / role
    vars_files = [str(role_dir / "defaults" / "main.yml")]
    if (role_dir / "vars" / "main.yml").is_file():
        vars_files.append(str(role_dir / "vars" / "main.yml"))
    play = {
        "hosts": "node-a",
        "gather_facts": True,
        "gather_subset": ["!all", "!min", "env"],
        "vars_files": vars_files,
        "tasks": [
            {
                "name": "render",
                "ansible.builtin.template": {
                    "src": str(role_dir / "templates" / template),
                    "dest": str(tmp_path / "out"),
                    "mode": "0644",
                },
            }
        ],
    }
    playbook.write_text(yaml.safe_dump([play]))
    # Extra variables: they outrank the role files the play loads, as a role's inputs do.
    (tmp_path / "extra.json").write_text(json.dumps(variables))
    hosts = {"node-a": {"ansible_host": "10.1.0.10"}, "node-b": {"ansible_host": "10.1.0.11"}}
    extra = f"@{tmp_path / 'extra.json'}"
    run_local(tmp_path, hosts, {}, str(playbook), "-e", extra, env=CONTROLLER)
    return (tmp_path / "out").read_text(encoding="utf-8")


def test_firewall_opens_the_cluster_ports_between_nodes_only(tmp_path: Path) -> None:
    text = _render(tmp_path, "hardening", "nftables.conf.j2", {})
    rules = [line.strip() for line in text.splitlines() if "accept" in line]
    assert "policy drop" in text
    assert "ip saddr 10.1.0.1/32 tcp dport 22 accept" in rules
    for node in ("10.1.0.10", "10.1.0.11"):
        assert f"ip saddr {node} tcp dport {{ 32768-60999 }} accept" in rules
        assert f"ip saddr {node} udp dport {{ 4791 }} accept" in rules
    # Exporters only from the controller (the monitoring host); no source gets every port.
    assert "ip saddr 10.1.0.1/32 tcp dport { 9100, 9400, 9410 } accept" in rules
    assert not [line for line in rules if line.endswith("saddr 10.1.0.10 accept")]
    assert "6817" not in text
    if shutil.which("nft"):
        checked = subprocess.run(["nft", "-c", "-f", str(tmp_path / "out")], check=False)
        assert checked.returncode == 0


def test_firewall_opens_slurm_when_the_scheduler_is_slurm(tmp_path: Path) -> None:
    variables = {
        "hardening_slurm": True,
        "hardening_slurm_srun_ports": "60001-63000",
        "hardening_cluster_cidrs": ["10.9.0.0/16"],
        "hardening_monitoring_cidrs": ["10.8.0.5/32"],
    }
    text = _render(tmp_path, "hardening", "nftables.conf.j2", variables)
    ports = "{ 32768-60999, 6817, 6818, 60001-63000 }"
    for source in ("10.1.0.10", "10.1.0.11", "10.9.0.0/16"):
        assert f"ip saddr {source} tcp dport {ports} accept" in text
    assert "ip saddr 10.8.0.5/32 tcp dport { 9100, 9400, 9410 } accept" in text
    assert "10.1.0.1/32 tcp dport { 9100" not in text


def test_mps_daemon_runs_as_its_user_with_folders_for_its_group(tmp_path: Path) -> None:
    variables = {"mps_user": "mps", "mps_group": "gpu", "mps_active_thread_percentage": None}
    unit = _render(tmp_path, "mps", "nvidia-mps.service.j2", variables).splitlines()
    assert "User=mps" in unit and "Group=gpu" in unit
    assert (
        "ExecStartPre=+/usr/bin/install -d -o mps -g gpu -m 0770 /run/nvidia-mps "
        "/var/log/nvidia-mps"
    ) in unit


def test_mps_as_root_keeps_the_plain_unit(tmp_path: Path) -> None:
    unit = _render(tmp_path, "mps", "nvidia-mps.service.j2", {"mps_active_thread_percentage": None})
    assert "ExecStartPre=/bin/mkdir -p /run/nvidia-mps /var/log/nvidia-mps" in unit
    assert not [line for line in unit.splitlines() if line.startswith(("User=", "Group="))]


def _spec(tmp_path: Path, gpu: str) -> Path:
    shutil.copyfile(EXAMPLES / "local.lock", tmp_path / "local.lock")
    text = (EXAMPLES / "local.yaml").read_text(encoding="utf-8")
    text = text.replace("gpu: {persistence_mode: true, compute_mode: EXCLUSIVE_PROCESS}\n", gpu)
    path = tmp_path / "local.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_spec_mps_user_and_group_reach_the_role(tmp_path: Path) -> None:
    path = _spec(
        tmp_path,
        "gpu: {compute_mode: EXCLUSIVE_PROCESS, mps: {enabled: true, user: mps, group: gpu}}\n",
    )
    doc = load_spec(path)
    lock = solve_lock(make_context(doc, AS_OF))
    values = pool_vars(doc.spec, lock, next(iter(doc.spec.pools)))
    assert (values["mps_user"], values["mps_group"]) == ("mps", "gpu")


@pytest.mark.parametrize("field", ["user", "group"])
def test_bad_mps_user_or_group_is_refused(tmp_path: Path, field: str) -> None:
    with pytest.raises(InputError) as caught:
        load_spec(_spec(tmp_path, f"gpu: {{mps: {{enabled: true, {field}: 'a b'}}}}\n"))
    assert f"not a usable {field} name" in str(caught.value.problems[0].message)  # type: ignore[attr-defined]


A30_LGI = REPO / "tests/fixtures/validate/real/mig/a30-lgi-3instances-drv535.txt"


@pytest.mark.skipif(os.geteuid() != 0, reason="giving files to a group needs root")
def test_mig_access_gives_a_profiles_instances_to_its_group(tmp_path: Path) -> None:
    """On the real A30 listing (GIs 3 and 4 are 1g.6gb, GI 2 is 2g.12gb), only the 1g.6gb
    instances' capability files (their GI and CI) become root:daemon 0440; a rerun changes none."""
    caps = tmp_path / "caps"
    caps.mkdir()
    for minor in (20, 21, 30, 31, 40):
        (caps / f"nvidia-cap{minor}").write_text("")
        (caps / f"nvidia-cap{minor}").chmod(0o444)
    minors = tmp_path / "mig-minors"
    minors.write_text(
        "config 1\nmonitor 2\ngpu0/gi2/access 20\ngpu0/gi2/ci0/access 21\n"
        "gpu0/gi3/access 30\ngpu0/gi3/ci0/access 31\ngpu0/gi4/access 40\ngpu1/gi3/access 50\n"
    )
    variables = {
        "mig_groups": {"1g.6gb": "daemon"},
        "mig_caps_minors": str(minors),
        "mig_caps_dir": str(caps),
    }
    script = tmp_path / "access.sh"
    script.write_text(_render(tmp_path, "mig", "gpuforge-mig-access.sh.j2", variables))
    shims = tmp_path / "bin"
    shims.mkdir()
    (shims / "nvidia-smi").write_text(f"#!/bin/sh\ngrep -v '^#' {A30_LGI}\n")
    (shims / "nvidia-smi").chmod(0o755)
    env = dict(os.environ, PATH=f"{shims}:{os.environ['PATH']}")

    first = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True)
    again = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True)

    assert first.returncode == 0, first.stderr
    assert sorted(first.stdout.split()[1::2]) == [
        str(caps / f"nvidia-cap{n}") for n in (30, 31, 40)
    ]
    assert again.stdout == ""
    modes = {p.name: (p.group(), oct(p.stat().st_mode & 0o777)) for p in caps.iterdir()}
    assert modes["nvidia-cap30"] == modes["nvidia-cap40"] == ("daemon", "0o440")
    assert modes["nvidia-cap20"] == ("root", "0o444")


def test_mig_access_makes_a_capability_file_not_made_yet_for_the_group_only(
    tmp_path: Path,
) -> None:
    """A 1g.6gb instance whose capability file the driver has not made yet (it makes them on
    first use, readable by everyone) gets it made here: a character device of the driver's
    nvidia-caps major, root:daemon 0440 from the start; other profiles' files are not made."""
    caps = tmp_path / "caps"
    minors = tmp_path / "mig-minors"
    minors.write_text("config 1\ngpu0/gi2/access 20\ngpu0/gi3/access 30\n")
    devices = tmp_path / "devices"
    devices.write_text("Character devices:\n195 nvidia\n236 nvidia-caps\n")
    variables = {
        "mig_groups": {"1g.6gb": "daemon"},
        "mig_caps_minors": str(minors),
        "mig_caps_dir": str(caps),
        "mig_caps_devices": str(devices),
    }
    script = tmp_path / "access.sh"
    script.write_text(_render(tmp_path, "mig", "gpuforge-mig-access.sh.j2", variables))
    shims = tmp_path / "bin"
    shims.mkdir()
    (shims / "nvidia-smi").write_text(f"#!/bin/sh\ngrep -v '^#' {A30_LGI}\n")
    (shims / "nvidia-smi").chmod(0o755)
    env = dict(os.environ, PATH=f"{shims}:{os.environ['PATH']}")

    first = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True)
    again = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True)

    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == ["changed", str(caps / "nvidia-cap30")]
    assert again.stdout == ""
    made = (caps / "nvidia-cap30").stat()
    assert stat.S_ISCHR(made.st_mode) and os.major(made.st_rdev) == 236
    assert os.minor(made.st_rdev) == 30
    assert (caps / "nvidia-cap30").group() == "daemon" and stat.S_IMODE(made.st_mode) == 0o440
    assert sorted(p.name for p in caps.iterdir()) == ["nvidia-cap30"]


def test_spec_mig_groups_reach_the_role(tmp_path: Path) -> None:
    mig = "gpu: {compute_mode: EXCLUSIVE_PROCESS}\n"
    path = _spec(tmp_path, mig)
    text = path.read_text(encoding="utf-8").replace(
        'mig: {"3g.40gb": 2}', 'mig: {devices: {"3g.40gb": 2}, groups: {"3g.40gb": gpu}}'
    )
    path.write_text(text, encoding="utf-8")
    doc = load_spec(path)
    lock = solve_lock(make_context(doc, AS_OF))
    assert pool_vars(doc.spec, lock, "a100")["mig_groups"] == {"3g.40gb": "gpu"}
    assert pool_vars(doc.spec, lock, "h100")["mig_groups"] == {}
