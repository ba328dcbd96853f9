"""Operating a cluster: the `up` pipeline (with journal and resume), rolling upgrade and
rollback, teardown, backup, restore, and the history of the locks that reached it."""

from gpuforge.ops._backup import (
    BackupResult,
    RestoreResult,
    create_backup,
    default_archive,
    restore_backup,
)
from gpuforge.ops._changes import classify_changes
from gpuforge.ops._converge import DriftReport, inventory_pools, probe_drift, run_roles
from gpuforge.ops._deploy import Deployment, gpuforge_command
from gpuforge.ops._drift import Drift, diff_node, fix_roles
from gpuforge.ops._expect import pool_expectation
from gpuforge.ops._history import (
    LOCKS_DIR,
    LockRecord,
    lock_digest,
    lock_history,
    node_locks,
    previous_lock,
    record_lock,
    recorded_lock,
)
from gpuforge.ops._interrupt import DeferredInterrupt
from gpuforge.ops._owner import CLUSTER_ID_FILE, deployment_owner
from gpuforge.ops._plan import PlanResult
from gpuforge.ops._policy import (
    POLICIES,
    Change,
    ChangeSet,
    NodeChanges,
    Policy,
    policy_of_role,
    strongest,
)
from gpuforge.ops._reporter import Reporter, SilentReporter
from gpuforge.ops._rollout import PHASES, Rollout, RolloutResult, Target, WaveResult
from gpuforge.ops._runlock import RUN_LOCK_FILE, DeploymentBusyError, LockHolder, run_lock
from gpuforge.ops._scale import (
    ScaleRefused,
    ScaleResult,
    SchedulerJoin,
    SchedulerJoinError,
    join_scheduler,
    node_actions,
    register_scheduler_join,
)
from gpuforge.ops._slurm import MUNGE_KEY_FILE, controller_host, ensure_munge_key
from gpuforge.ops._slurm_drain import SlurmDrainer, slurm_drainer
from gpuforge.ops._slurm_join import settle_slurm
from gpuforge.ops._up import (
    STEPS,
    DriftResult,
    Pipeline,
    PlanGate,
    StoppedAtPlan,
    UpResult,
    fleet_known_hosts,
    trusted_host_keys,
    up_exit_code,
)
from gpuforge.ops._waves import Wave, count_of, most_unavailable, plan_waves, unavailable_limit

__all__ = [
    "CLUSTER_ID_FILE",
    "LOCKS_DIR",
    "MUNGE_KEY_FILE",
    "PHASES",
    "POLICIES",
    "RUN_LOCK_FILE",
    "STEPS",
    "BackupResult",
    "Change",
    "ChangeSet",
    "DeferredInterrupt",
    "Deployment",
    "DeploymentBusyError",
    "Drift",
    "DriftReport",
    "DriftResult",
    "LockHolder",
    "LockRecord",
    "NodeChanges",
    "Pipeline",
    "PlanGate",
    "PlanResult",
    "Policy",
    "Reporter",
    "RestoreResult",
    "Rollout",
    "RolloutResult",
    "ScaleRefused",
    "ScaleResult",
    "SchedulerJoin",
    "SchedulerJoinError",
    "SilentReporter",
    "SlurmDrainer",
    "StoppedAtPlan",
    "Target",
    "UpResult",
    "Wave",
    "WaveResult",
    "classify_changes",
    "controller_host",
    "count_of",
    "create_backup",
    "default_archive",
    "deployment_owner",
    "diff_node",
    "ensure_munge_key",
    "fix_roles",
    "fleet_known_hosts",
    "gpuforge_command",
    "inventory_pools",
    "join_scheduler",
    "lock_digest",
    "lock_history",
    "most_unavailable",
    "node_actions",
    "node_locks",
    "plan_waves",
    "policy_of_role",
    "pool_expectation",
    "previous_lock",
    "probe_drift",
    "record_lock",
    "recorded_lock",
    "register_scheduler_join",
    "restore_backup",
    "run_lock",
    "run_roles",
    "settle_slurm",
    "slurm_drainer",
    "strongest",
    "trusted_host_keys",
    "unavailable_limit",
    "up_exit_code",
]
