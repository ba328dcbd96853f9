"""The GPU watch's Prometheus alert rules land in the deployment folder (issue 24), for the site's
Prometheus to load: an alert on an unknown GPU process and one on a GPU busy outside jobs, on
the metrics the watch exports; none where the nodes run no monitoring."""

from __future__ import annotations

from pathlib import Path

import yaml

from gpuforge.render import ALERT_RULES_FILE

from .conftest import EXAMPLES, render

WATCH = (
    Path(__file__).resolve().parents[3]
    / "src/gpuforge/ansible_collections/gpuforge/gpu/roles/monitoring/files/gpuforge-gpu-watch"
)


def test_the_deployment_holds_the_gpu_watch_alert_rules(tmp_path: Path) -> None:
    result = render(EXAMPLES / "local.yaml", tmp_path / "deploy")
    assert ALERT_RULES_FILE in result.files
    rules = yaml.safe_load((tmp_path / "deploy" / ALERT_RULES_FILE).read_text(encoding="utf-8"))
    alerts = {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"]}
    assert alerts["GpuforgeUnknownGpuProcess"]["expr"] == "gpuforge_gpu_unknown_processes > 0"
    assert "for" not in alerts["GpuforgeUnknownGpuProcess"], "fires on the next evaluation"
    assert alerts["GpuforgeGpuBusyOutsideJobs"]["expr"] == "gpuforge_gpu_busy_outside_jobs > 0"
    exported = WATCH.read_text(encoding="utf-8")
    for rule in alerts.values():
        assert f"# TYPE {rule['expr'].split()[0]} gauge" in exported, rule["expr"]


def test_no_alert_rules_without_monitoring_and_a_rerender_removes_them(tmp_path: Path) -> None:
    text = (EXAMPLES / "local.yaml").read_text(encoding="utf-8")
    render(text, tmp_path / "deploy")
    result = render(text + "monitoring: {enabled: false}\n", tmp_path / "deploy")
    assert ALERT_RULES_FILE not in result.files and ALERT_RULES_FILE in result.removed
    assert not (tmp_path / "deploy" / ALERT_RULES_FILE).exists()
