"""The monitoring role's scrape-config fragment lists every node of the inventory, whatever the
run is limited to (`--limit`, or `gpuforge drift --fix` on one node): a limited run writes the
same file as a full one."""

from __future__ import annotations

from pathlib import Path

import yaml
from local_play import REPO, run_local

from gpuforge.render import ALERT_RULES_FILE, monitoring_files
from gpuforge.spec import load_spec

PLAY = """
- name: Write the scrape-config fragment as the monitoring role does
  hosts: all
  gather_facts: false
  tasks:
    - name: The role's scrape-config task
      ansible.builtin.include_role:
        name: gpuforge.gpu.monitoring
        tasks_from: scrape
"""
HOSTS = {f"gpu-{i}": {"ansible_host": f"10.77.0.{10 + i}"} for i in range(3)}


def _fragment(work: Path, *args: str) -> str:
    dest = work / "scrape.yml"
    dest.unlink(missing_ok=True)
    variables = {
        "monitoring_scrape_config_dest": str(dest),
        "monitoring_scrape_config_host": "gpu-1",
    }
    run_local(work, HOSTS, variables, str(work / "play.yml"), *args)
    return dest.read_text(encoding="utf-8")


def test_limited_run_writes_the_same_scrape_config(tmp_path: Path) -> None:
    """One node or all of them: the fragment names the three nodes' exporters."""
    (tmp_path / "play.yml").write_text(PLAY, encoding="utf-8")
    full = _fragment(tmp_path)
    jobs = {job["job_name"]: job for job in yaml.safe_load(full)["scrape_configs"]}
    targets = jobs["gpuforge-node"]["static_configs"][0]["targets"]
    assert targets == [f"10.77.0.{10 + i}:9100" for i in range(3)]
    assert _fragment(tmp_path, "--limit", "gpu-2") == full


def test_the_roles_alert_rules_are_those_gpuforge_writes_into_the_deployment(
    tmp_path: Path,
) -> None:
    """The rules file gpuforge renders is, byte for byte, the one the role's task writes."""
    (tmp_path / "play.yml").write_text(PLAY, encoding="utf-8")
    dest = tmp_path / "alerts.yml"
    variables = {"monitoring_alert_rules_dest": str(dest), "monitoring_scrape_config_host": "gpu-0"}
    run_local(tmp_path, HOSTS, variables, str(tmp_path / "play.yml"))
    spec = load_spec(REPO / "examples" / "local.yaml").spec
    assert monitoring_files(spec)[ALERT_RULES_FILE] == dest.read_text(encoding="utf-8")
