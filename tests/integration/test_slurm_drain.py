"""Real Slurm on the local fleet (issue 18, "Drain is real"): after `up` with `scheduler: slurm`,
Debian's slurmctld and slurmd run a GPU job across both nodes, and a drain waits for the job
running on its node, gives up at its timeout (or cancels the job with force), and undrains.
`scale` adds a node to Slurm and, removing it, drains it through scontrol first.

One two-node cluster is shared by the module; every test leaves it with both nodes idle and no
job queued, whatever order the tests run in.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from test_up import Cluster, _make_cluster, pytestmark  # noqa: F401  (same markers and skips)

from gpuforge.ops import SlurmDrainer, slurm_drainer
from gpuforge.ops._drain import DrainTimeout
from gpuforge.spec import load_spec

CONTROLLER = 0
WORKER = 1
# The job holds its node until this file exists on the node.
RELEASE = "/tmp/gpuforge-it-release"
WAIT_S = 60.0
PWNED = "/tmp/gpuforge-it-pwned"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two H100:8 nodes with Slurm, the controller on the pool's first node; destroyed after."""
    made = _make_cluster(tmp_path_factory.mktemp("slurm"), "one-pool.yaml", "it-slurm")
    text = made.spec.read_text(encoding="utf-8")
    made.spec.write_text(text + "scheduler: {kind: slurm, controller: h100}\n")
    try:
        rc, payload = made.json("up", str(made.spec))
        assert rc == 0, json.dumps(payload, indent=1)[-4000:]
        yield made
    finally:
        made.teardown()


def _node(index: int) -> str:
    """A node's name: local fleet nodes are <pool>-<index> in every cluster."""
    return f"h100-{index}"


def _drainer(cluster: Cluster) -> SlurmDrainer:
    return slurm_drainer(load_spec(cluster.spec).spec, cluster.deployment)


def _until(what: str, check: Callable[[], bool], cluster: Cluster | None = None) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() >= deadline:
            seen = _slurm_view(cluster) if cluster else ""
            raise AssertionError(f"waited {WAIT_S:g} s for {what}\n{seen}")
        time.sleep(0.2)


def _slurm_view(cluster: Cluster) -> str:
    """What Slurm says about the nodes and the worker's slurmd log, for a wait that failed."""
    show = "scontrol show node; squeue; tail -n 30 /var/log/slurm/slurmctld.log"
    log = "tail -n 30 /var/log/slurm/slurmd.log"
    return (
        cluster.fleet("ssh", _node(CONTROLLER), "--", show).stdout
        + cluster.fleet("ssh", _node(WORKER), "--", log).stdout
    )


def _idle(cluster: Cluster, node: str) -> None:
    """Wait until Slurm sees `node` idle and responding (no `*`), with no job queued."""
    drainer = _drainer(cluster)
    last: list[object] = []

    def idle() -> bool:
        last[:] = [drainer.states([node]), cluster.ssh(_node(CONTROLLER), "squeue --noheader")]
        return last[0] == {node: "idle"} and not str(last[1]).strip()

    try:
        _until(f"{node} idle", idle, cluster)
    except AssertionError as error:
        raise AssertionError(f"last seen: {last}\n{error}") from None


@pytest.fixture
def held_job(cluster: Cluster) -> Iterator[str]:
    """A batch job running on the worker until RELEASE exists there; the job id."""
    controller, worker = _node(CONTROLLER), _node(WORKER)
    cluster.ssh(worker, f"rm -f {RELEASE}")
    wrap = f"while [ ! -e {RELEASE} ]; do sleep 0.2; done"
    out = cluster.ssh(controller, f"sbatch --parsable -N1 -w {worker} --wrap '{wrap}'")
    job = out.strip().split(";")[0]

    def state() -> str:
        return cluster.ssh(controller, f"squeue --noheader -j {job} -o %T").strip()

    _until(f"job {job} to run", lambda: state() == "RUNNING", cluster)
    try:
        yield job
    finally:
        cluster.ssh(controller, f"scancel {job}")
        cluster.ssh(worker, f"touch {RELEASE}")
        _drainer(cluster).undrain([worker])
        _idle(cluster, worker)


def test_gpu_job_runs_on_both_nodes(cluster: Cluster) -> None:
    out = cluster.ssh(_node(CONTROLLER), "srun -N2 --gres=gpu:8 nvidia-smi -L")
    gpus = [line for line in out.splitlines() if line.startswith("GPU ")]
    assert len(gpus) == 16, out
    assert all("H100" in line for line in gpus), out


def test_drain_waits_for_the_running_job(cluster: Cluster, held_job: str) -> None:
    worker = _node(WORKER)
    drainer = _drainer(cluster)
    failures: list[BaseException] = []

    def drain() -> None:
        try:
            drainer.drain([worker], reason="it: driver upgrade", timeout_s=WAIT_S, force=False)
        except BaseException as error:  # handed to the test thread
            failures.append(error)

    thread = threading.Thread(target=drain)
    thread.start()
    _until(f"{worker} draining", lambda: drainer.states([worker])[worker] == "draining", cluster)
    assert thread.is_alive(), "drain returned while the job still ran"
    cluster.ssh(worker, f"touch {RELEASE}")
    thread.join(WAIT_S)
    assert not thread.is_alive() and not failures, failures
    assert drainer.states([worker])[worker] == "drained"
    reason = cluster.ssh(_node(CONTROLLER), f"sinfo --noheader -n {worker} -o %E")
    assert reason.strip() == "it: driver upgrade"
    drainer.undrain([worker])
    _idle(cluster, worker)


def test_drain_times_out_naming_the_job_then_force_cancels_it(
    cluster: Cluster, held_job: str
) -> None:
    worker = _node(WORKER)
    drainer = _drainer(cluster)
    # The reason is data: one argument of scontrol, never shell code on the controller.
    reason = f"it: $(touch {PWNED}); `touch {PWNED}`"
    with pytest.raises(DrainTimeout) as caught:
        drainer.drain([worker], reason=reason, timeout_s=1, force=False)
    assert caught.value.busy == {worker: [held_job]}
    controller = _node(CONTROLLER)
    assert cluster.ssh(controller, f"sinfo --noheader -n {worker} -o %E").strip() == reason
    drainer.drain([worker], reason=reason, timeout_s=1, force=True)
    assert drainer.states([worker])[worker] in ("drained", "down")
    assert held_job not in cluster.ssh(controller, "squeue --noheader -o %i").split()
    assert cluster.ssh(controller, f"ls {PWNED} 2>/dev/null || echo absent").strip() == "absent"


def test_drift_knows_the_slurm_role(cluster: Cluster) -> None:
    """A converged cluster has no drift; a stopped slurmd is the slurm role's drift, and
    `drift --fix` starts it again, after which the node serves jobs again."""
    worker = _node(WORKER)
    rc, payload = cluster.json("drift", str(cluster.spec))
    assert rc == 0 and payload["drift"]["drifted"] == [], payload
    cluster.ssh(worker, "systemctl stop slurmd")
    try:
        rc, payload = cluster.json("drift", str(cluster.spec))
        assert rc == 1, payload
        found = [(d["node"], d["code"], d["item"], d["role"]) for d in payload["drift"]["drifts"]]
        assert found == [(worker, "GF-DRIFT-004", "slurmd.service", "slurm")], found
    finally:
        rc, payload = cluster.json("drift", str(cluster.spec), "--fix")
    assert rc == 0 and payload["after"]["drifted"] == [], payload
    _idle(cluster, worker)


def _sinfo(cluster: Cluster) -> dict[str, str]:
    """Node -> its state, as `sinfo` on the controller lists them."""
    out = cluster.ssh(_node(CONTROLLER), "sinfo -N -h -o '%N %T'")
    return dict(line.split() for line in out.splitlines() if line.strip())


def _scale(cluster: Cluster, count: int) -> dict[str, object]:
    """Set the pool's count in the spec, then `scale --yes`; its JSON result."""
    text = cluster.spec.read_text()
    cluster.spec.write_text(re.sub(r"(?m)^(    count: )\d+$", rf"\g<1>{count}", text, count=1))
    rc, payload = cluster.json("scale", str(cluster.spec), "--yes")
    assert rc == 0, json.dumps(payload, indent=1)[-4000:]
    return payload


def test_scale_joins_a_new_node_to_slurm_and_drains_a_removed_one_first(cluster: Cluster) -> None:
    """2 -> 3: every node's slurm.conf lists h100-2 with its GPUs, Slurm sees it idle
    and runs a GPU job there. 3 -> 2: h100-2 was drained through scontrol before Terraform
    destroyed it, and Slurm no longer lists it."""
    new, controller = _node(2), _node(CONTROLLER)
    try:
        grown = _scale(cluster, 3)
        assert grown["added"] == [new], grown
        _until(f"{new} idle", lambda: _sinfo(cluster).get(new) == "idle", cluster)
        out = cluster.ssh(controller, f"srun -w {new} --gres=gpu:8 nvidia-smi -L")
        assert len([line for line in out.splitlines() if line.startswith("GPU ")]) == 8, out
        listed = {
            node: [
                line
                for line in cluster.ssh(node, "cat /etc/slurm/slurm.conf").splitlines()
                if line.startswith("NodeName=")
            ]
            for node in (controller, _node(WORKER), new)
        }
        assert len({tuple(lines) for lines in listed.values()}) == 1, listed
        assert [line.split()[0] for line in listed[new]] == [
            f"NodeName={_node(i)}" for i in range(3)
        ]
        assert all(line.endswith(" Gres=gpu:8") for line in listed[new]), listed

        shrunk = _scale(cluster, 2)
        assert shrunk["removed"] == [new], shrunk
        assert new not in _sinfo(cluster)
        log = cluster.ssh(controller, "cat /var/log/slurm/slurmctld.log")
        assert re.search(rf"{new}\b.*gpuforge: node removed from its pool", log), log[-3000:]
        steps = [json.loads(line)["step"] for line in cluster.journal.read_text().splitlines()]
        last = steps[len(steps) - 1 - steps[::-1].index("scale:plan") :]
        assert last.index("scale:drain") < last.index("scale:apply"), last
    finally:
        if "    count: 2\n" not in cluster.spec.read_text():
            _scale(cluster, 2)
    assert sorted(_sinfo(cluster)) == [controller, _node(WORKER)]
    _idle(cluster, controller)
    _idle(cluster, _node(WORKER))
