"""The GPU watch's Prometheus alert rules, written into the deployment folder for the site's
Prometheus to load (`rule_files`): rendered from the monitoring role's own template with the
cluster's inputs, so they are the rules the collection ships, never a copy."""

from __future__ import annotations

from gpuforge.desired import RoleScope, cluster_vars
from gpuforge.spec import ClusterSpec

ALERT_RULES_FILE = "monitoring/gpuforge-alerts.yml"
_ROLE = "monitoring"


def monitoring_files(spec: ClusterSpec) -> dict[str, str]:
    """The alert rules file (relative path -> text) where the nodes run the GPU watch; else none."""
    scope = RoleScope(_ROLE, cluster_vars(spec))
    if not (scope["gpuforge_enable_monitoring"] and scope["monitoring_gpu_watch"]):
        return {}
    return {ALERT_RULES_FILE: scope.template_text("gpuforge-alerts.yml.j2")}
