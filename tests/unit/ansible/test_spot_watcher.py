"""The spot watcher (role spot_watcher) against each cloud's documented metadata answers, and
end to end against the fleet's simulated metadata service on loopback.

The parsing tests use the shapes the clouds document: AWS's instance-action item
({"action", "time"}, 404 without a notice), Azure's Scheduled Events document (DocumentIncarnation
and Events with EventId, EventType, ResourceType, Resources, EventStatus, NotBefore in RFC 1123,
Description, EventSource, DurationInSeconds) and GCP's instance/preempted (TRUE or FALSE).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from gpuforge.fleet.sim import inject_fault
from gpuforge.fleet.sim._seed import STATE_DIR

REPO = Path(__file__).resolve().parents[3]
ROLE = REPO / "src" / "gpuforge" / "ansible_collections" / "gpuforge" / "gpu" / "roles"
SCRIPT = ROLE / "spot_watcher" / "templates" / "gpuforge_spot_watcher.py.j2"
METADATA_TOOL = REPO / "src" / "gpuforge" / "fleet" / "sim" / "tools" / "metadata.py"


def _watcher() -> ModuleType:
    """The watcher script the role installs, imported from its template (it has no Jinja)."""
    loader = importlib.machinery.SourceFileLoader("gpuforge_spot_watcher", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module
    loader.exec_module(module)
    return module


W = _watcher()

AZURE_FREEZE = {
    "DocumentIncarnation": 2,
    "Events": [
        {
            "EventId": "C7061BAC-AFDC-4513-B24B-AA5F13A16123",
            "EventStatus": "Scheduled",
            "EventType": "Freeze",
            "ResourceType": "VirtualMachine",
            "Resources": ["WestNO_0", "WestNO_1"],
            "NotBefore": "Mon, 11 Apr 2022 22:26:58 GMT",
            "Description": "Virtual machine is being paused because of a memory-preserving "
            "Live Migration operation.",
            "EventSource": "Platform",
            "DurationInSeconds": 5,
        }
    ],
}
AZURE_PREEMPT = {
    "EventId": "F5D2A4C3-8E3B-4A7C-9D1E-2B6F0A9C8D7E",
    "EventStatus": "Scheduled",
    "EventType": "Preempt",
    "ResourceType": "VirtualMachine",
    "Resources": ["WestNO_1"],
    "NotBefore": "Mon, 11 Apr 2022 22:27:28 GMT",
    "Description": "",
    "EventSource": "Platform",
    "DurationInSeconds": -1,
}


def test_aws_instance_action_is_a_notice_and_404_is_none() -> None:
    """200 with {"action", "time"} is a notice keyed by both; 404 (no item) is no notice."""
    body = json.dumps({"action": "terminate", "time": "2017-09-18T08:22:00Z"})
    notice = W.parse_aws(200, body)
    assert notice == W.Notice(
        "aws:terminate:2017-09-18T08:22:00Z", "aws", "terminate", "2017-09-18T08:22:00Z"
    )
    assert W.parse_aws(200, json.dumps({"action": "stop", "time": "2017-09-18T08:22:00Z"}))
    assert W.parse_aws(404, "<?xml version='1.0'?><html>404 - Not Found</html>") is None
    with pytest.raises(ValueError):
        W.parse_aws(200, json.dumps({"action": "terminate"}))
    with pytest.raises(ValueError):
        W.parse_aws(401, "")


def test_azure_only_a_preempt_event_naming_this_vm_is_a_notice() -> None:
    """A Freeze event is no notice; a Preempt event is, for the VMs its Resources name."""
    assert W.parse_azure(json.dumps(AZURE_FREEZE), "WestNO_1") == []
    assert W.parse_azure(json.dumps({"DocumentIncarnation": 0, "Events": []}), "WestNO_1") == []
    document = {"DocumentIncarnation": 3, "Events": [*AZURE_FREEZE["Events"], AZURE_PREEMPT]}
    [notice] = W.parse_azure(json.dumps(document), "WestNO_1")
    assert notice.key == f"azure:{AZURE_PREEMPT['EventId']}"
    assert (notice.action, notice.not_before) == ("Preempt", "2022-04-11T22:27:28Z")
    assert W.parse_azure(json.dumps(document), "WestNO_0") == []
    with pytest.raises(ValueError):
        W.parse_azure(json.dumps({"DocumentIncarnation": 1}), "WestNO_1")


def test_gcp_preempted_true_is_one_notice_per_boot() -> None:
    """TRUE is a notice keyed by the boot; FALSE is none; anything else is an error."""
    assert W.parse_gcp("FALSE", "boot-1") is None
    assert W.parse_gcp("TRUE", "boot-1") == W.Notice("gcp:preempted:boot-1", "gcp", "preempted", "")
    with pytest.raises(ValueError):
        W.parse_gcp("<html>", "boot-1")


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """The fleet's metadata service (no power-off) on a free loopback port, over a node root
    with the simulator's state; yields the root and the service's URL."""
    root = tmp_path / "node"
    (root / STATE_DIR).mkdir(parents=True)
    (root / STATE_DIR / "state.json").write_text(json.dumps({"faults": []}), encoding="utf-8")
    argv = [sys.executable, "-S", str(METADATA_TOOL), "--no-reclaim", "--address", "127.0.0.1"]
    process = subprocess.Popen(
        [*argv, "--port", "0"],
        env={**os.environ, "GPUFORGE_SIM_ROOT": str(root)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("metadata: serving on 127.0.0.1:"), line
        yield root, f"http://{line.split()[-1]}"
    finally:
        process.kill()
        process.wait()


def _config(tmp_path: Path, cloud: str, url: str) -> dict[str, Any]:
    """Settings whose hooks append their arguments and environment to a file, without a shell."""
    record = (
        "import os, sys; open(sys.argv[1], 'a').write("
        "repr((sys.argv[2:], os.environ['GPUFORGE_SPOT_CLOUD'])) + '\\n')"
    )
    return {
        "cloud": cloud,
        "endpoint": url,
        "drain_command": [sys.executable, "-c", record, str(tmp_path / "drain"), "{hostname}"],
        "checkpoint_command": [sys.executable, "-c", record, str(tmp_path / "ckpt"), "a; b $X"],
        "state_dir": str(tmp_path / "state"),
    }


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_watcher_handles_the_simulated_notice_once(
    cloud: str, service: tuple[Path, str], tmp_path: Path
) -> None:
    """No notice: nothing runs. Notice: drain then checkpoint run once, as argument vectors
    ({hostname} replaced, shell characters kept as data), and the record says so; polling again
    (or a restarted watcher) runs nothing more."""
    root, url = service
    config = _config(tmp_path, cloud, url)
    state = str(tmp_path / "state" / "state.json")
    metadata = W.Metadata(cloud, url)
    assert W.watch_once(metadata, config, state) == []
    inject_fault(root, "spot-interruption", notice_s=30)
    [key] = W.watch_once(metadata, config, state)
    assert key.startswith(f"{cloud}:")
    assert W.watch_once(W.Metadata(cloud, url), config, state) == []
    drained = (tmp_path / "drain").read_text(encoding="utf-8").splitlines()
    assert drained == [repr(([os.uname().nodename], cloud))]
    checkpointed = (tmp_path / "ckpt").read_text(encoding="utf-8").splitlines()
    assert checkpointed == [repr((["a; b $X"], cloud))]
    record = json.loads(Path(state).read_text(encoding="utf-8"))
    assert record["drained"] is True
    [entry] = record["notices"]
    assert entry["key"] == key and entry["cloud"] == cloud
    assert entry["drain"]["rc"] == 0 and entry["checkpoint"]["rc"] == 0
    if cloud != "gcp":
        # The machine goes when the notice period (30 s from the injection) ends.
        given = json.loads((root / STATE_DIR / "state.json").read_text(encoding="utf-8"))
        at = given["faults"][0]["params"]["at"] + 30
        assert entry["not_before"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def test_azure_notice_is_approved_once_handled(service: tuple[Path, str], tmp_path: Path) -> None:
    """After handling a Preempt event the watcher approves it (StartRequests): it is Started."""
    root, url = service
    inject_fault(root, "spot-interruption", notice_s=30)
    metadata = W.Metadata("azure", url)
    W.watch_once(metadata, _config(tmp_path, "azure", url), str(tmp_path / "state.json"))
    status, body = metadata.request(
        "/metadata/scheduledevents?api-version=2020-07-01", headers={"Metadata": "true"}
    )
    [event] = json.loads(body)["Events"]
    assert status == 200 and event["EventStatus"] == "Started"


def test_metadata_service_refuses_requests_without_the_clouds_headers(
    service: tuple[Path, str],
) -> None:
    """As the real services: AWS needs a session token, Azure Metadata: true, GCP its flavor."""
    _, url = service
    plain = W.Metadata("aws", url)
    assert plain.request("/latest/meta-data/spot/instance-action")[0] == 401
    assert plain.request("/latest/api/token", "PUT")[0] == 400
    assert plain.request("/metadata/scheduledevents?api-version=2020-07-01")[0] == 400
    assert plain.request("/computeMetadata/v1/instance/preempted")[0] == 403


def test_a_failed_hook_is_recorded_and_not_retried(
    service: tuple[Path, str], tmp_path: Path
) -> None:
    """A checkpoint command that fails (or does not exist) is recorded with its code, once."""
    root, url = service
    inject_fault(root, "spot-interruption", notice_s=30)
    config = _config(tmp_path, "aws", url)
    config["checkpoint_command"] = [str(tmp_path / "no-such-hook")]
    state = str(tmp_path / "state.json")
    assert len(W.watch_once(W.Metadata("aws", url), config, state)) == 1
    assert W.watch_once(W.Metadata("aws", url), config, state) == []
    [entry] = json.loads(Path(state).read_text(encoding="utf-8"))["notices"]
    assert entry["checkpoint"]["rc"] == -1 and "no-such-hook" in entry["checkpoint"]["output"]


def test_the_node_powers_off_when_the_notice_period_ends(tmp_path: Path) -> None:
    """The service signals the node's init (here a stand-in process) once the notice period has
    passed, not before: the node stays up through its notice."""
    root = tmp_path / "node"
    (root / STATE_DIR).mkdir(parents=True)
    (root / STATE_DIR / "state.json").write_text(json.dumps({"faults": []}), encoding="utf-8")
    init = subprocess.Popen(["sleep", "120"])
    argv = [sys.executable, "-S", str(METADATA_TOOL), "--init-pid", str(init.pid)]
    service = subprocess.Popen(
        [*argv, "--address", "127.0.0.1", "--port", "0"],
        env={**os.environ, "GPUFORGE_SIM_ROOT": str(root)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert service.stdout is not None and service.stdout.readline().startswith("metadata:")
        inject_fault(root, "spot-interruption", notice_s=2)
        given = time.time()
        assert init.poll() is None
        assert init.wait(timeout=10) == -signal.SIGUSR2
        assert time.time() - given >= 1.5
    finally:
        init.kill()
        service.kill()
        service.wait()
        init.wait()
