"""The `onprem` target end to end on machines gpuforge does not own (issue 21, requirement 6).

Three simulated fleet nodes stand in for a site's existing machines; this module starts them
with `gpuforge fleet up` (not through a spec) and shares them:
- two are listed in an onprem spec and reached over SSH with the fleet's key and host keys;
- the third runs gpuforge itself, for a spec whose one host has `connection: local`: the
  controller is that node, so the local connection configures the node and never this host.
Each spec goes through `up`, `validate` and `destroy` in one module fixture, in that order
(so the tests hold in any order); the tests then check what each step did. `destroy` removes
the deployment's own state only: the machines keep running, with every package they had.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gpuforge.errors import ToolMissingError
from gpuforge.provision import find_binary
from gpuforge.render import local_subnet


def _payload(stdout: str) -> Any:
    """What a `--json` answer carries: its `result`, or its `error`, beside `ok` and `exit_code`."""
    body = json.loads(stdout)
    inner = body["result"] if "result" in body else body["error"]
    if not isinstance(inner, dict):
        return inner
    return {"ok": body["ok"], "exit_code": body["exit_code"], **inner}


def _terraform_missing() -> bool:
    try:
        find_binary()
    except ToolMissingError:
        return True
    return False


pytestmark = [
    pytest.mark.integration,
    pytest.mark.fleet,
    pytest.mark.skipif(os.geteuid() != 0, reason="the fleet needs root (namespaces, mounts)"),
    pytest.mark.skipif(_terraform_missing(), reason="no tofu/terraform (run scripts/setup.sh)"),
]

RUN_TIMEOUT_S = 480
PROFILE = "hgx-h100-8"
# A package the lock pins for the driver role: on a node after `up`, never on this host.
DRIVER_PACKAGE = "nvidia-smi"  # NVIDIA's debian12 name (the spec is Debian 12)
# Where the node that runs gpuforge keeps its interpreter and the spec (its own /tmp).
NODE_VENV = "/tmp/gpuforge-controller"
NODE_FOLDER = "/tmp/onprem-local"
SPEC_TAIL = """\
fabric: {type: infiniband}
software: {os: debian-12, driver: "580", cuda: "12.9", nccl: auto, cudnn: auto, repository: local}
validation: {dcgm_level: 1, nccl_min_busbw_gbps: 200}
"""


def _unique_name() -> str:
    """A cluster name whose derived /24 is not on any interface here (other clusters' bridges)."""
    taken = subprocess.run(
        ["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=True
    ).stdout
    for _ in range(100):
        name = f"it-onprem-{secrets.token_hex(3)}"
        if f" {local_subnet(name).rsplit('.', 1)[0]}." not in taken:
            return name
    raise AssertionError("no free fleet subnet for a test cluster")


def _json(done: subprocess.CompletedProcess[str], what: str) -> dict[str, Any]:
    try:
        payload: dict[str, Any] = _payload(done.stdout)
    except json.JSONDecodeError:
        raise AssertionError(
            f"{what} printed no JSON (rc {done.returncode})\n"
            f"stdout: {done.stdout[-3000:]}\nstderr: {done.stderr[-3000:]}"
        ) from None
    return payload


@dataclass
class Machines:
    """Existing machines: fleet nodes of one cluster, with the key and host keys to reach them."""

    cluster: str
    state: Path
    addresses: dict[str, str]
    key: Path
    known_hosts: Path

    def gpuforge(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `gpuforge ARGS` on this host with this module's fleet state folder."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("GPUFORGE_DEPLOY")}
        env["GPUFORGE_FLEET_DIR"] = str(self.state)
        return subprocess.run(
            [sys.executable, "-m", "gpuforge", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )

    def fleet(self, command: str, *args: str) -> subprocess.CompletedProcess[str]:
        """`gpuforge fleet COMMAND` scoped to this cluster and state folder."""
        return self.gpuforge("fleet", command, "--cluster", self.cluster, *args)

    def on(self, node: str, script: str) -> subprocess.CompletedProcess[str]:
        """Run a shell script on a node through `gpuforge fleet ssh`."""
        return self.fleet("ssh", node, "--", script)

    def packages(self, node: str) -> list[str]:
        """Every package installed on a node, with its version."""
        done = self.on(node, "dpkg-query -W -f '${Package}=${Version}\\n'")
        assert done.returncode == 0, done.stderr
        return sorted(done.stdout.split())

    def states(self) -> dict[str, str]:
        """Node name -> running/stopped/dead, as `fleet status` reports it."""
        done = self.fleet("status", "--json")
        assert done.returncode == 0, done.stderr
        return {node["name"]: node["state"] for node in _json(done, "fleet status")["nodes"]}


@pytest.fixture(scope="module")
def machines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Machines]:
    """Three running fleet nodes nobody's spec created; removed at the end of the module."""
    cluster = _unique_name()
    state = tmp_path_factory.mktemp("onprem-fleet")
    found = Machines(cluster, state, {}, Path(), Path())
    try:
        done = found.fleet("up", "--profile", PROFILE, "--count", "3", "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        payload = _json(done, "fleet up")
        found.addresses = {node["name"]: node["address"] for node in payload["nodes"]}
        found.key = Path(payload["ssh_private_key_file"])
        found.known_hosts = Path(payload["known_hosts"])
        yield found
    finally:
        found.fleet("down", "--json")


@dataclass
class Lifecycle:
    """What each step of one onprem spec's life returned, and what the machines held."""

    spec: Path
    hosts: list[str]
    results: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    packages_before_destroy: dict[str, list[str]] = field(default_factory=dict)
    packages_after_destroy: dict[str, list[str]] = field(default_factory=dict)

    def step(self, name: str) -> dict[str, Any]:
        """The JSON a step printed; fails the test with its output unless it exited 0."""
        rc, payload = self.results[name]
        assert rc == 0, f"{name} exited {rc}: {json.dumps(payload, indent=1)[-4000:]}"
        return payload


def _record(life: Lifecycle, name: str, done: subprocess.CompletedProcess[str]) -> None:
    life.results[name] = (done.returncode, _json(done, name))


@pytest.fixture(scope="module")
def over_ssh(machines: Machines, tmp_path_factory: pytest.TempPathFactory) -> Lifecycle:
    """An onprem spec of two nodes reached over SSH: up, validate, destroy."""
    hosts = sorted(machines.addresses)[:2]
    listed = "".join(
        f"      - {{name: {name}, address: {machines.addresses[name]}, user: root,"
        f" ssh_key: {machines.key}}}\n"
        for name in hosts
    )
    folder = tmp_path_factory.mktemp("onprem-ssh")
    spec = folder / "cluster.yaml"
    spec.write_text(
        "apiVersion: gpuforge/v1\nkind: Cluster\n"
        f"name: {machines.cluster}\ntarget: onprem\n"
        f"pools:\n  gpu:\n    gpu: H100:8\n    hosts:\n{listed}"
        # The machines are fleet nodes: their sshd is the fleet's own, not the ssh.service an
        # onprem target's hardening reloads (the local target's spec leaves SSH to the fleet).
        f"security: {{hardening: false, known_hosts: {machines.known_hosts}}}\n" + SPEC_TAIL,
        encoding="utf-8",
    )
    life = Lifecycle(spec, hosts)
    _record(life, "up", machines.gpuforge("up", str(spec), "--json"))
    _record(life, "validate", machines.gpuforge("validate", str(spec), "--json"))
    # `gpuforge drift` (branch `drift`) goes here once it lands: a clean run, then a change
    # made on a node through `fleet ssh`, reported by drift and put back by `up`.
    life.packages_before_destroy = {name: machines.packages(name) for name in hosts}
    _record(life, "destroy", machines.gpuforge("destroy", str(spec), "--yes", "--json"))
    life.packages_after_destroy = {name: machines.packages(name) for name in hosts}
    return life


def _node_python_matches() -> bool:
    """Whether a node's /usr/bin/python3 can import this environment's packages (same 3.X)."""
    done = subprocess.run(
        ["/usr/bin/python3", "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0 and done.stdout.strip() == str(sys.version_info[:2])


def _controller_on(machines: Machines, node: str) -> None:
    """Make `node` able to run this gpuforge: nodes see this host's files through their
    overlay, but not the interpreter of this venv (under /root), so a venv of the node's
    /usr/bin/python3 reads this environment's packages and gets its Ansible commands."""
    site = sysconfig.get_path("purelib")
    bin_dir = Path(sys.executable).parent
    script = f"""set -e
/usr/bin/python3 -m venv --without-pip {NODE_VENV}
own=$({NODE_VENV}/bin/python3 -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
echo {shlex.quote(f"import site; site.addsitedir({site!r})")} > "$own/controller.pth"
for tool in {bin_dir}/ansible*; do
  sed "1s|.*|#!{NODE_VENV}/bin/python3|" "$tool" > {NODE_VENV}/bin/"${{tool##*/}}"
  chmod 755 {NODE_VENV}/bin/"${{tool##*/}}"
done
mkdir -p {NODE_FOLDER}
"""
    done = machines.on(node, script)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def local_connection(machines: Machines) -> Lifecycle:
    """An onprem spec whose one host is the controller itself (`connection: local`), run by
    gpuforge on the third node: up, validate, destroy, all inside that node."""
    if not _node_python_matches():
        pytest.skip("the nodes' /usr/bin/python3 is not this Python's 3.X: cannot run gpuforge")
    node = sorted(machines.addresses)[2]
    _controller_on(machines, node)
    spec = f"{NODE_FOLDER}/cluster.yaml"
    text = (
        "apiVersion: gpuforge/v1\nkind: Cluster\n"
        f"name: {machines.cluster}-self\ntarget: onprem\n"
        f"pools:\n  self:\n    gpu: H100:8\n    hosts:\n"
        f"      - {{name: {node}, connection: local}}\n"
        "security: {hardening: false}\n" + SPEC_TAIL
    )
    written = machines.on(node, f"printf %s {shlex.quote(text)} > {spec}")
    assert written.returncode == 0, written.stderr
    gpuforge = f"cd {NODE_FOLDER} && {NODE_VENV}/bin/python3 -m gpuforge"
    life = Lifecycle(Path(spec), [node])
    _record(life, "up", machines.on(node, f"{gpuforge} up {spec} --json"))
    _record(life, "validate", machines.on(node, f"{gpuforge} validate {spec} --json"))
    # `gpuforge drift` (branch `drift`) goes here too once it lands.
    life.packages_before_destroy = {node: machines.packages(node)}
    _record(life, "destroy", machines.on(node, f"{gpuforge} destroy {spec} --yes --json"))
    life.packages_after_destroy = {node: machines.packages(node)}
    return life


def _assert_up_configured_and_ready(life: Lifecycle, address_of: dict[str, str]) -> None:
    payload = life.step("up")
    assert payload["ok"] is True and payload["report"]["ready"] is True
    assert payload["plans"]["onprem"]["totals"]["create"] == 0
    nodes = {node["name"]: node for node in payload["nodes"]}
    assert sorted(nodes) == life.hosts
    for name, node in nodes.items():
        assert node["address"] == address_of[name]
        assert node["ready"] is True, name
        assert node["failed"] == 0 and node["unreachable"] == 0, name
        assert node["changed"] > 0, f"{name}: a machine new to gpuforge must be changed"


def test_up_over_ssh_configures_the_listed_machines(
    machines: Machines, over_ssh: Lifecycle
) -> None:
    """From nothing to ready over SSH with the spec's user, key and host keys."""
    _assert_up_configured_and_ready(over_ssh, machines.addresses)
    for name in over_ssh.hosts:
        assert any(
            p.startswith(f"{DRIVER_PACKAGE}=") for p in over_ssh.packages_before_destroy[name]
        )


def test_validate_over_ssh_proves_the_machines_ready(over_ssh: Lifecycle) -> None:
    payload = over_ssh.step("validate")
    assert payload["ok"] is True and payload["ready"] is True
    assert sorted(node["host"] for node in payload["nodes"]) == over_ssh.hosts


def test_destroy_over_ssh_leaves_the_machines_as_they_are(
    machines: Machines, over_ssh: Lifecycle
) -> None:
    """destroy forgets the machines: they keep running, reachable, with every package."""
    assert over_ssh.step("destroy")["destroyed"] == ["onprem"]
    assert over_ssh.packages_after_destroy == over_ssh.packages_before_destroy
    states = machines.states()
    assert all(states[name] == "running" for name in over_ssh.hosts), states
    state_files = list((over_ssh.spec.parent / ".deploy").glob("*/terraform/*/terraform.tfstate"))
    assert state_files, "up left no Terraform state"
    for state_file in state_files:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        assert state["outputs"] == {} and state["resources"] == [], state_file


def test_up_with_connection_local_configures_the_controller_itself(
    machines: Machines, local_connection: Lifecycle
) -> None:
    """The host at 127.0.0.1 with `connection: local` is the node gpuforge runs on: configured
    there without SSH (the node holds no key to log in to itself), and never on this host."""
    [node] = local_connection.hosts
    _assert_up_configured_and_ready(local_connection, {node: "127.0.0.1"})
    assert any(
        p.startswith(f"{DRIVER_PACKAGE}=") for p in local_connection.packages_before_destroy[node]
    )
    here = subprocess.run(["dpkg-query", "-W", DRIVER_PACKAGE], capture_output=True, check=False)
    assert here.returncode != 0, f"{DRIVER_PACKAGE} landed on this host"


def test_validate_with_connection_local(local_connection: Lifecycle) -> None:
    payload = local_connection.step("validate")
    assert payload["ok"] is True and payload["ready"] is True


def test_destroy_with_connection_local_leaves_the_controller_as_it_is(
    machines: Machines, local_connection: Lifecycle
) -> None:
    [node] = local_connection.hosts
    assert local_connection.step("destroy")["destroyed"] == ["onprem"]
    assert local_connection.packages_after_destroy == local_connection.packages_before_destroy
    assert machines.states()[node] == "running"
