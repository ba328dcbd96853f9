"""The local simulated GPU fleet: nodes in namespaces with overlay roots, reached by real SSH.

`Fleet` is the API the provisioner and the CLI use; `gpuforge.fleet.sim` simulates the hardware.
"""

from gpuforge.fleet._fleet import ClusterOwnedError, Fleet, PartialStartError
from gpuforge.fleet._model import (
    CLUSTER_ID_ENV,
    DEPLOYMENT_ENV,
    ClusterOwner,
    Node,
    NodeSpec,
    NodeState,
)
from gpuforge.fleet._naming import default_subnet, parse_address, parse_cluster_id, parse_subnet
from gpuforge.fleet._simlink import PROCESS_FAULTS, fault_names, sim_module
from gpuforge.fleet._state import DEFAULT_STATE_DIR, STATE_DIR_ENV, resolve_state_dir

__all__ = [
    "CLUSTER_ID_ENV",
    "DEFAULT_STATE_DIR",
    "DEPLOYMENT_ENV",
    "PROCESS_FAULTS",
    "STATE_DIR_ENV",
    "ClusterOwnedError",
    "ClusterOwner",
    "Fleet",
    "Node",
    "NodeSpec",
    "NodeState",
    "PartialStartError",
    "default_subnet",
    "fault_names",
    "parse_address",
    "parse_cluster_id",
    "parse_subnet",
    "resolve_state_dir",
    "sim_module",
]
