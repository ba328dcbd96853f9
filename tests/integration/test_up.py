"""`gpuforge up` end to end on the local simulated fleet (issue 5, "Done when").

One two-pool cluster (2 x H100:8 + 2 x A100-80GB:8 with MIG) is brought up once per module and
shared: from nothing to ready, an idempotent re-run, drift put back, an injected hardware fault,
a node whose configuration fails (exit 3). The tests run in any order: each one that breaks the
cluster heals it and ends with an `up` that brings it back to ready. A second, smaller cluster
is killed mid-run and resumed; destroy is proven on the recovery module's cluster. Every
cluster has a unique name, its own fleet state folder and deployment folder, and is destroyed
by its fixture's finalizer, also when a test fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gpuforge.check import read_lock
from gpuforge.errors import ToolMissingError
from gpuforge.fleet._proc import alive
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

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "up"
UP_TIMEOUT_S = 480
# `up` is killed once this package (the driver role's, pinned by the lock) is on a node: Ansible
# is then in the middle of site.yml, with roles done and roles to go.
KILL_AFTER_PACKAGE = "nvidia-smi"  # NVIDIA's debian12 name (the specs are Debian 12)
STEPS_BEFORE_CONFIGURE = ["check", "lock", "render", "provision", "inventory"]


def _unique_name(prefix: str) -> str:
    """A cluster name whose derived /24 is not on any interface here (other clusters' bridges)."""
    taken = subprocess.run(
        ["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=True
    ).stdout
    for _ in range(100):
        name = f"{prefix}-{secrets.token_hex(3)}"
        network = local_subnet(name).rsplit(".", 1)[0] + "."
        if f" {network}" not in taken:
            return name
    raise AssertionError("no free fleet subnet for a test cluster")


@dataclass
class Cluster:
    """A test cluster: its spec in a temporary folder and its own fleet state folder."""

    name: str
    spec: Path
    state: Path

    @property
    def deployment(self) -> Path:
        """The default deployment folder `up` uses for this spec."""
        return self.spec.parent / ".deploy" / self.name

    @property
    def journal(self) -> Path:
        """The run journal `up --resume` reads."""
        return self.deployment / "journal.jsonl"

    def env(self) -> dict[str, str]:
        """The environment of every gpuforge call: this cluster's fleet state folder."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("GPUFORGE_DEPLOY")}
        env["GPUFORGE_FLEET_DIR"] = str(self.state)
        return env

    def argv(self, *args: str) -> list[str]:
        """The command line of `gpuforge ARGS` with this interpreter."""
        return [sys.executable, "-m", "gpuforge", *args]

    def run(self, *args: str, timeout: float = UP_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
        """Run `gpuforge ARGS` to completion, capturing its output."""
        return subprocess.run(
            self.argv(*args),
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def json(self, *args: str) -> tuple[int, dict[str, Any]]:
        """Run a `--json` command; return its exit code and parsed output."""
        done = self.run(*args, "--json")
        try:
            payload = _payload(done.stdout)
        except json.JSONDecodeError:
            raise AssertionError(
                f"gpuforge {' '.join(args)} printed no JSON (rc {done.returncode})\n"
                f"stdout: {done.stdout[-3000:]}\nstderr: {done.stderr[-3000:]}"
            ) from None
        return done.returncode, payload

    def fleet(self, command: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `gpuforge fleet COMMAND ARGS` scoped to this cluster and its state folder."""
        scope = ["--cluster", self.name, "--state-dir", str(self.state)]
        return self.run("fleet", command, *scope, *args)

    def nodes(self) -> list[dict[str, Any]]:
        """`fleet status --json` for this cluster."""
        done = self.fleet("status", "--json")
        assert done.returncode == 0, done.stderr
        return list(_payload(done.stdout)["nodes"])

    def ssh(self, node: str, command: str) -> str:
        """Run one command on a node; assert it succeeded and return its output."""
        done = self.fleet("ssh", node, "--", command)
        assert done.returncode == 0, f"{command} on {node}: {done.stdout}{done.stderr}"
        return done.stdout

    def teardown(self) -> None:
        """Destroy what `up` created, then remove whatever of this cluster the fleet still has."""
        if (self.deployment / "terraform").exists():
            self.run("destroy", str(self.spec), "--yes", "--json")
        self.fleet("down", "--json")


def _make_cluster(base: Path, fixture: str, prefix: str) -> Cluster:
    name = _unique_name(prefix)
    folder = base / name
    folder.mkdir(parents=True)
    text = (FIXTURES / fixture).read_text(encoding="utf-8")
    spec = folder / "cluster.yaml"
    spec.write_text(re.sub(r"(?m)^name: .*$", f"name: {name}", text, count=1), encoding="utf-8")
    state = base / f"{name}-fleet"
    state.mkdir()
    return Cluster(name=name, spec=spec, state=state)


def _by_name(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["name"]: node for node in payload["nodes"]}


@dataclass
class FirstUp:
    """The shared cluster and what its first `up --json` returned."""

    cluster: Cluster
    rc: int
    payload: dict[str, Any]
    seconds: float


@pytest.fixture(scope="module")
def two_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstUp]:
    """The two-pool cluster, brought up once from nothing; destroyed at the end of the module."""
    cluster = _make_cluster(tmp_path_factory.mktemp("up"), "two-pool.yaml", "it-up-two-pool")
    try:
        started = time.monotonic()
        rc, payload = cluster.json("up", str(cluster.spec))
        yield FirstUp(cluster, rc, payload, time.monotonic() - started)
    finally:
        cluster.teardown()


def test_up_from_nothing_reaches_ready(two_pool: FirstUp) -> None:
    """Every node of both pools ends ready, with Ansible's counts and Terraform's creates."""
    cluster, payload = two_pool.cluster, two_pool.payload
    assert two_pool.rc == 0, json.dumps(payload, indent=1)[-4000:]
    assert payload["ok"] is True and payload["exit_code"] == 0
    assert payload["skipped_steps"] == []
    nodes = _by_name(payload)
    assert sorted(nodes) == ["a100-0", "a100-1", "h100-0", "h100-1"]
    for name, node in nodes.items():
        assert node["ready"] is True, name
        assert node["pool"] == name.split("-")[0]
        assert node["failed"] == 0 and node["unreachable"] == 0, name
        assert node["changed"] > 0, f"{name}: a fresh node must be changed"
    plan = payload["plans"]["local"]
    assert plan["by_type"]["null_resource"]["create"] == 4
    assert plan["totals"]["create"] == 4 and plan["totals"]["delete"] == 0
    assert payload["report"]["ready"] is True
    profiles = {n["name"]: (n["profile"], n["state"]) for n in cluster.nodes()}
    assert profiles == {
        "a100-0": ("hgx-a100-80-8", "running"),
        "a100-1": ("hgx-a100-80-8", "running"),
        "h100-0": ("hgx-h100-8", "running"),
        "h100-1": ("hgx-h100-8", "running"),
    }
    mig = cluster.ssh("a100-0", "nvidia-smi --query-gpu=mig.mode.current --format=csv,noheader")
    assert mig.split() == ["Enabled"] * 8
    assert (cluster.deployment / "validation" / "report.html").is_file()
    print(f"\nfirst up: {two_pool.seconds:.1f} s")


def test_second_up_changes_nothing(two_pool: FirstUp) -> None:
    """Re-running `up` on a ready cluster changes no host and plans no Terraform change."""
    cluster = two_pool.cluster
    rc, payload = cluster.json("up", str(cluster.spec))
    assert rc == 0, json.dumps(payload, indent=1)[-4000:]
    nodes = _by_name(payload)
    assert len(nodes) == 4
    assert {name: node["changed"] for name, node in nodes.items()} == dict.fromkeys(nodes, 0)
    assert all(node["ready"] for node in nodes.values())
    assert payload["plans"]["local"]["totals"]["create"] == 0
    assert payload["plans"]["local"]["totals"]["no-op"] == 4


def test_each_pool_installs_the_names_of_its_distributions_repository(two_pool: FirstUp) -> None:
    """The Debian 12 pool holds the lock's debian12 names, the Ubuntu 22.04 pool (as the fleet
    presents it) the lock's ubuntu2204 names, each at the version the lock pins."""
    cluster = two_pool.cluster
    lock = read_lock(cluster.spec.with_suffix(".lock"))
    presented = {"h100": ("debian", "12", "nvidia-driver"), "a100": ("ubuntu", "22.04", None)}
    for pool, (os_id, version, debian_name) in presented.items():
        os_release = cluster.ssh(f"{pool}-0", ". /etc/os-release; echo $ID $VERSION_ID")
        assert os_release.split() == [os_id, version], pool
        pins = lock.pools[pool].packages
        names = " ".join(pin.name for pin in pins)
        shown = cluster.ssh(f"{pool}-0", f"dpkg-query -W -f='${{Package}}=${{Version}}\\n' {names}")
        assert sorted(shown.split()) == sorted(str(pin) for pin in pins), pool
        driver = {pin.name for pin in pins if pin.name.startswith("nvidia-driver")}
        assert driver == ({debian_name} if debian_name else {"nvidia-driver-580-open"}), pool


def test_the_readme_s_standalone_command_runs_site_on_the_cluster(
    two_pool: FirstUp, tmp_path: Path
) -> None:
    """The collection without gpuforge: exactly the README's command, with the inventory `up`
    rendered, from the repository root, with no ANSIBLE_* settings and a fresh HOME."""
    command = re.search(
        r"`(ANSIBLE_COLLECTIONS_PATH=\S+ ansible-playbook gpuforge\.gpu\.site -i INVENTORY)`",
        (REPO / "README.md").read_text(encoding="utf-8"),
    )
    assert command is not None, "the README names the standalone command"
    inventory = two_pool.cluster.deployment / "ansible" / "inventory"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["HOME"] = str(tmp_path)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-c", command.group(1).replace("INVENTORY", shlex.quote(str(inventory)))],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=UP_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    recap = dict(re.findall(r"^(\S+)\s+:\s+(ok=.*)$", done.stdout, re.M))
    assert sorted(recap) == ["a100-0", "a100-1", "h100-0", "h100-1"]
    for host, counts in recap.items():
        assert "changed=0 " in counts and "unreachable=0 " in counts, (host, counts)
        assert "failed=0 " in counts, (host, counts)


def test_up_puts_back_a_stopped_service_and_edited_files_on_that_node_only(
    two_pool: FirstUp,
) -> None:
    """Drift on one node (a service stopped, a file edited, a mode changed): `up` repairs it there.

    The re-run skips the service and file tasks of roles found in place; this is the case
    where they are not.
    """
    cluster = two_pool.cluster
    drifted = "h100-0"
    cluster.ssh(
        drifted,
        "systemctl stop dcgm-exporter && echo NCCL_DEBUG=TRACE >> /etc/nccl.conf"
        " && chmod 0600 /etc/profile.d/cuda.sh",
    )
    rc, payload = cluster.json("up", str(cluster.spec))
    assert rc == 0, json.dumps(payload, indent=1)[-4000:]
    nodes = _by_name(payload)
    assert [name for name, node in nodes.items() if node["changed"]] == [drifted]
    assert nodes[drifted]["changed"] == 3
    assert cluster.ssh(drifted, "systemctl is-active dcgm-exporter").strip() == "active"
    assert "NCCL_DEBUG" not in cluster.ssh(drifted, "cat /etc/nccl.conf")
    assert cluster.ssh(drifted, "stat -c %a /etc/profile.d/cuda.sh").strip() == "644"


def test_injected_xid_fails_validation_on_that_node_only(two_pool: FirstUp) -> None:
    """XID 79 on one GPU: validate exits 1 with GF-HEALTH-012 there; heal, reboot, up: ready."""
    cluster, spec = two_pool.cluster, str(two_pool.cluster.spec)
    broken = "h100-1"
    done = cluster.fleet("inject", broken, "xid", "--gpu", "2", "--code", "79", "--json")
    assert done.returncode == 0, done.stderr
    rc, report = cluster.json("validate", spec)
    assert rc == 1
    assert report["ok"] is False and report["ready"] is False
    verdicts = {n["host"]: n["verdict"] for n in report["nodes"]}
    assert verdicts == {
        "a100-0": "ready",
        "a100-1": "ready",
        "h100-0": "ready",
        broken: "not-ready",
    }
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert {f["node"] for f in errors} == {broken}
    # One grouped finding for the fault: the missing GPU and nvidia-smi's lost-handle line are
    # its consequences, and nothing asks to report normal tool output.
    [xid] = [f for f in report["findings"] if f["node"] == broken]
    assert xid["code"] == "GF-HEALTH-012" and "XID 79" in xid["message"]
    assert "GF-HEALTH-002" in {c["code"] for c in xid["consequences"]}
    assert "maintainers" not in json.dumps(report["findings"])

    # The kernel log keeps the XID until the node reboots, as on real hardware: heal the
    # simulated GPU, power-cycle it, and `up` re-applies what the reboot reset.
    assert cluster.fleet("heal", broken, "--json").returncode == 0
    cluster.ssh(broken, "gpuforge-sim-reboot")
    rc, payload = cluster.json("up", spec)
    assert rc == 0, json.dumps(payload["report"], indent=1)[-4000:]
    nodes = _by_name(payload)
    assert all(node["ready"] for node in nodes.values())
    assert nodes[broken]["changed"] > 0
    assert [n for n, node in nodes.items() if node["changed"]] == [broken]


def test_node_failing_configuration_exits_3(two_pool: FirstUp) -> None:
    """A package whose install fails on one node: exit 3, that node's task named, others ready."""
    cluster = two_pool.cluster
    broken, package = "a100-1", "libcudnn9-cuda-12"
    cluster.ssh(broken, f"apt-get remove -y -q --allow-change-held-packages {package}")
    done = cluster.fleet("inject", broken, "package-fail", "--package", package, "--json")
    assert done.returncode == 0, done.stderr
    rc, payload = cluster.json("up", str(cluster.spec))
    assert rc == 3, json.dumps(payload, indent=1)[-4000:]
    assert payload["ok"] is False and payload["exit_code"] == 3
    nodes = _by_name(payload)
    failed = nodes.pop(broken)
    assert failed["failed"] >= 1 and failed["ready"] is False
    assert failed["failure"]["task"] == "Install the cuDNN packages"
    assert package in failed["failure"]["message"]
    for name, node in nodes.items():
        assert node["failed"] == 0 and node["ready"] is True, name
        assert "failure" not in node
    # The unfinished configure step is journalled failed, so `up --resume` configures again.
    configure = [e for e in _journal(cluster.journal) if e["step"] == "up:configure"][-1]
    assert configure["status"] == "failed" and configure["failed_hosts"] == [broken]

    # Healed, the next `up` installs the package there and touches no other node.
    assert cluster.fleet("heal", broken, "--json").returncode == 0
    rc, payload = cluster.json("up", str(cluster.spec))
    assert rc == 0, json.dumps(payload, indent=1)[-4000:]
    nodes = _by_name(payload)
    assert all(node["ready"] for node in nodes.values())
    assert [n for n, node in nodes.items() if node["changed"]] == [broken]


@pytest.fixture
def one_pool(tmp_path: Path) -> Iterator[Cluster]:
    """A fresh one-pool cluster, destroyed after the test."""
    cluster = _make_cluster(tmp_path, "one-pool.yaml", "it-up-one-pool")
    try:
        yield cluster
    finally:
        cluster.teardown()


def _journal_lines(journal: Path) -> list[str]:
    return journal.read_text(encoding="utf-8").splitlines() if journal.exists() else []


def _journal_has(journal: Path, step: str, status: str, since: int = 0) -> bool:
    """Whether the journal holds `step` with `status` after its first `since` lines."""
    for line in _journal_lines(journal)[since:]:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if entry.get("step") == step and entry.get("status") == status:
            return True
    return False


def _journal(journal: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]


def _installed(cluster: Cluster, node: str, package: str) -> bool:
    """Whether dpkg on the node has `package` installed (held or not): the run is past its role."""
    query = f"dpkg-query -W -f='${{Status}}' {package} 2>/dev/null || true"
    done = cluster.fleet("ssh", node, "--", query)
    return done.returncode == 0 and done.stdout.strip().endswith(" ok installed")


def _ansible_pids(deployment: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ours = b"ansible-playbook" in cmdline and str(deployment).encode() in cmdline
        if ours and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def test_killed_up_is_finished_by_resume(one_pool: Cluster) -> None:
    """SIGKILL `up` while Ansible configures; `up --resume` skips what was done and finishes."""
    cluster = one_pool
    started = time.monotonic()
    with subprocess.Popen(
        cluster.argv("up", str(cluster.spec), "--json"),
        env=cluster.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    ) as proc:
        try:
            while not _journal_has(cluster.journal, "up:configure", "started"):
                assert proc.poll() is None, f"up ended (rc {proc.returncode}) before configure"
                assert time.monotonic() - started < UP_TIMEOUT_S, "configure never started"
                time.sleep(0.2)
            while not _installed(cluster, "h100-0", KILL_AFTER_PACKAGE):
                assert proc.poll() is None, f"up ended (rc {proc.returncode}) before the kill"
                assert time.monotonic() - started < UP_TIMEOUT_S, "the driver never installed"
                time.sleep(0.5)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert _journal_has(cluster.journal, "up:configure", "started")
    assert not _journal_has(cluster.journal, "up:configure", "done")

    rc, payload = cluster.json("up", str(cluster.spec), "--resume")
    assert rc == 0, json.dumps(payload, indent=1)[-4000:]
    # The killed run's lock is stale: taken over, with a notice naming the killed process.
    assert [n for n in payload["notices"] if f"(pid {proc.pid}," in n and "gone" in n]
    assert payload["skipped_steps"] == STEPS_BEFORE_CONFIGURE
    nodes = _by_name(payload)
    assert sorted(nodes) == ["h100-0", "h100-1"]
    assert all(node["ready"] for node in nodes.values())
    done = [e["step"] for e in _journal(cluster.journal) if e["status"] == "done"]
    for step in STEPS_BEFORE_CONFIGURE:
        assert done.count(f"up:{step}") == 1, f"{step} ran twice"
    assert done.count("up:configure") == 1 and done.count("up:validate") == 1
    print(f"\nkill + resume: {time.monotonic() - started:.1f} s")
    # The killed run's ansible-playbook (on a pty of its own, SIGHUP ignored) may outlive `up`
    # for the task it is in, racing the resumed run; by now it must be gone.
    assert _ansible_pids(cluster.deployment) == []
