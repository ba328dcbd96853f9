"""The configure engine: run the collection's playbooks through ansible-runner.

`run_playbook` drives ansible-playbook with tuned settings (mitogen when it loads), turns the
runner's events into typed `ConfigureEvent`s for progress displays, returns a `PlaybookResult`
with per-host recap and failures, and records start and end in the deployment's `Journal`.
"""

from gpuforge.configure._artifacts import scrub_runner_secrets
from gpuforge.configure._cfg import ansible_cfg
from gpuforge.configure._engine import StrategyChoice, mitogen_plugins_dir, resolve_strategy
from gpuforge.configure._events import ConfigureEvent, EventKind, HostStats
from gpuforge.configure._journal import Journal, JournalEntry, StepStatus
from gpuforge.configure._result import HostFailure, PlaybookResult, RunStatus
from gpuforge.configure._runner import EventCallback, run_playbook
from gpuforge.configure._settings import (
    Engine,
    EngineSettings,
    ansible_env,
    ansible_options,
    collections_root,
    control_path_dir,
    strict_host_key_args,
)

__all__ = [
    "ConfigureEvent",
    "Engine",
    "EngineSettings",
    "EventCallback",
    "EventKind",
    "HostFailure",
    "HostStats",
    "Journal",
    "JournalEntry",
    "PlaybookResult",
    "RunStatus",
    "StepStatus",
    "StrategyChoice",
    "ansible_cfg",
    "ansible_env",
    "ansible_options",
    "collections_root",
    "control_path_dir",
    "mitogen_plugins_dir",
    "resolve_strategy",
    "run_playbook",
    "scrub_runner_secrets",
    "strict_host_key_args",
]
