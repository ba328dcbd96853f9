"""Provisioning: drive OpenTofu/Terraform offline-capable, and turn its outputs into inventory.

find_binary()            tofu, terraform, or the one scripts/setup-terraform.sh installed
Engine(workdir)          init / plan -out / show -json / apply / output -json / destroy
PlanSummary              a saved plan counted per resource type and action
nodes_from_outputs()     `output -json` -> NodeRecord list (the modules' outputs contract)
build_inventory()        NodeRecord list -> Ansible YAML inventory structure
onprem_host_vars()       an onprem spec's hosts -> SSH user and key, or a local connection
"""

from gpuforge.provision._binary import (
    TerraformBinary,
    find_binary,
    find_tools_dir,
    mirror_cli_config,
    probe_binary,
)
from gpuforge.provision._deployment import RootModule, deployment_nodes, discover_roots
from gpuforge.provision._engine import (
    STATE_BACKUP_DIR,
    STATE_BACKUPS,
    Engine,
    EventCallback,
    PlanResult,
)
from gpuforge.provision._events import Diagnostic, ProgressEvent
from gpuforge.provision._inventory import (
    ROOT_GROUP,
    build_inventory,
    dynamic_inventory,
    group_token,
    host_vars,
    inventory_yaml,
)
from gpuforge.provision._nodes import NODE_FIELDS, NodeRecord, merge_nodes, nodes_from_outputs
from gpuforge.provision._onprem import known_hosts_path, onprem_host_vars
from gpuforge.provision._plan import (
    Action,
    ActionCounts,
    PlanSummary,
    ResourceChange,
    parse_plan_json,
)

__all__ = [
    "NODE_FIELDS",
    "ROOT_GROUP",
    "STATE_BACKUPS",
    "STATE_BACKUP_DIR",
    "Action",
    "ActionCounts",
    "Diagnostic",
    "Engine",
    "EventCallback",
    "NodeRecord",
    "PlanResult",
    "PlanSummary",
    "ProgressEvent",
    "ResourceChange",
    "RootModule",
    "TerraformBinary",
    "build_inventory",
    "deployment_nodes",
    "discover_roots",
    "dynamic_inventory",
    "find_binary",
    "find_tools_dir",
    "group_token",
    "host_vars",
    "inventory_yaml",
    "known_hosts_path",
    "merge_nodes",
    "mirror_cli_config",
    "nodes_from_outputs",
    "onprem_host_vars",
    "parse_plan_json",
    "probe_binary",
]
