"""The engine over real SSH to two nodes of the local simulated fleet, mitogen and plain SSH."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gpuforge.configure import EngineSettings, run_playbook
from gpuforge.fleet import Fleet, Node

pytestmark = [pytest.mark.fleet, pytest.mark.slow]

CLUSTER = "gfconfigure"

PLAY = """\
- name: Touch fleet nodes
  hosts: nodes
  gather_facts: false
  tasks:
    - name: Write a marker on the node
      ansible.builtin.copy:
        content: "{{ inventory_hostname }}\\n"
        dest: /root/gpuforge-configure-test
        mode: "0644"
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Fleet, list[Node]]]:
    fleet = Fleet(tmp_path_factory.mktemp("fleet-state"), seed_hardware=False)
    try:
        nodes = fleet.up(CLUSTER, "pool", "hgx-h100-8", 2)
        yield fleet, nodes
    finally:
        fleet.down(CLUSTER)


@pytest.mark.parametrize("engine", ["auto", "ssh"])
def test_trivial_playbook_over_fleet_ssh(
    tmp_path: Path, fleet: tuple[Fleet, list[Node]], engine: str
) -> None:
    handle, nodes = fleet
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    key = handle.client_key_path(CLUSTER)
    (deploy / "hosts.ini").write_text(
        "[nodes]\n"
        + "".join(
            f"{n.name} ansible_host={n.address} ansible_user=root "
            f"ansible_ssh_private_key_file={key}\n"
            for n in nodes
        )
    )
    (deploy / "play.yml").write_text(PLAY)
    settings = EngineSettings.tuned(engine=engine, known_hosts=handle.known_hosts_path(CLUSTER))
    first = run_playbook(deploy, "play.yml", Path("hosts.ini"), settings=settings)
    assert first.engine == ("mitogen" if engine == "auto" else "ssh")
    assert first.status == "ok", first.failures
    assert sorted(first.hosts) == sorted(n.name for n in nodes)
    for node in nodes:
        out = handle.run(node, ["cat", "/root/gpuforge-configure-test"])
        assert out.stdout == f"{node.name}\n"
