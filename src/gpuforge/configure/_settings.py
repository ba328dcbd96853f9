"""Ansible settings for a deployment folder: one source for `ansible.cfg` and the runner's env.

The same `EngineSettings` produce the `ansible.cfg` the renderer writes into the deployment
folder and the `ANSIBLE_*` variables the configure engine passes to ansible-playbook, so a
user running plain `ansible-playbook` in that folder gets what gpuforge gets.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import gpuforge

__all__ = [
    "STATE_DIR",
    "TASK_TIMER",
    "AnsibleOption",
    "Engine",
    "EngineSettings",
    "ansible_env",
    "ansible_options",
    "collections_root",
    "control_path_dir",
    "strict_host_key_args",
]

Engine = Literal["auto", "mitogen", "ssh"]

# Everything Ansible keeps between runs lives under DEPLOY/.ansible/.
STATE_DIR = ".ansible"
# The collection's callback that times every task and role (`profile_tasks`).
TASK_TIMER = "gpuforge.gpu.task_timer"

# A unix socket path may hold 108 bytes; ssh's %C hash adds 40 characters and a slash.
_SOCKET_PATH_MAX = 107
_CONTROL_NAME = "%%C"
_CONTROL_NAME_LEN = 40


@dataclass(frozen=True)
class EngineSettings:
    """How Ansible runs: parallelism, SSH reuse, fact caching, and which strategy engine.

    `known_hosts`: the provisioner's file of exact host keys (checked strictly). Without one,
    plain SSH trusts keys on first use into DEPLOY/.ansible/known_hosts; mitogen always checks
    strictly, so it needs the keys known beforehand (the local fleet provides them).
    `profile_tasks`: time every task and role with the collection's task_timer callback, into
    DEPLOY/.ansible/task-times-<playbook>.json (and a summary at the end of the output).
    `inject_facts`: also copy every fact into a top-level `ansible_*` variable (Ansible's
    default). The roles read `ansible_facts` only, and the copy costs the controller time on
    every task of every host.
    `vars_plugins_at_start`: read group_vars/host_vars once when the inventory loads, not again
    each time a task of a host asks for variables (Ansible's `demand` default).
    """

    forks: int | None = None
    pipelining: bool = True
    control_persist: str | None = "60s"
    engine: Engine = "auto"
    mitogen_strategy: Literal["mitogen_linear", "mitogen_free"] = "mitogen_linear"
    mitogen_plugins: Path | None = None
    profile_tasks: bool = False
    known_hosts: Path | None = None
    gathering: Literal["smart", "implicit", "explicit"] = "smart"
    fact_cache_timeout_s: int = 7200
    inject_facts: bool = False
    vars_plugins_at_start: bool = True

    @classmethod
    def tuned(cls, **overrides: object) -> EngineSettings:
        """gpuforge's defaults: wide forks, pipelining, ControlPersist, fact cache, mitogen."""
        return replace(cls(), **overrides)  # type: ignore[arg-type]

    @classmethod
    def ansible_defaults(cls, **overrides: object) -> EngineSettings:
        """Ansible's stock behaviour for the side-by-side benchmark: plain SSH, 5 forks.

        No pipelining, no ControlPersist, no fact cache reuse, no mitogen, facts injected.
        """
        base = cls(
            forks=5,
            pipelining=False,
            control_persist=None,
            engine="ssh",
            gathering="implicit",
            fact_cache_timeout_s=0,
            inject_facts=True,
            vars_plugins_at_start=False,
        )
        return replace(base, **overrides)  # type: ignore[arg-type]

    def forks_for(self, host_count: int) -> int:
        """Forks to use for `host_count` hosts: the explicit value, else max(16, hosts)."""
        return self.forks if self.forks is not None else max(16, host_count)


@dataclass(frozen=True)
class AnsibleOption:
    """One Ansible setting: where it sits in ansible.cfg and which env variable carries it."""

    section: str
    key: str
    env: str
    value: str


def collections_root() -> Path:
    """The directory holding the shipped `ansible_collections/`, so `gpuforge.gpu.*` resolves."""
    return Path(gpuforge.__file__).resolve().parent


def control_path_dir(deploy_dir: Path) -> Path:
    """Where SSH control sockets go: in the deployment folder unless that path is too long.

    Falls back to a short per-folder directory under /tmp so sockets fit the 108-byte limit.
    """
    preferred = deploy_dir.resolve() / STATE_DIR / "cp"
    if len(str(preferred)) + 1 + _CONTROL_NAME_LEN <= _SOCKET_PATH_MAX:
        return preferred
    digest = hashlib.sha256(str(deploy_dir.resolve()).encode()).hexdigest()[:12]
    return Path("/tmp") / f"gpuforge-cp-{digest}"


def strict_host_key_args(known_hosts: Path) -> str:
    """ssh options that accept only the host keys in `known_hosts` (and no other file).

    The local fleet's inventory carries them as `ansible_ssh_common_args`, so that a plain
    `ansible-playbook` without gpuforge's ansible.cfg checks the nodes' keys the same way.
    """
    return f"-o UserKnownHostsFile={shlex.quote(str(known_hosts))} -o StrictHostKeyChecking=yes"


def _ssh_args(settings: EngineSettings, deploy_dir: Path) -> str:
    if settings.control_persist:
        args = ["-C", "-o ControlMaster=auto", f"-o ControlPersist={settings.control_persist}"]
    else:
        args = ["-o ControlMaster=no", "-o ControlPersist=no"]
    if settings.known_hosts is not None:
        args.append(strict_host_key_args(settings.known_hosts))
    else:
        tofu = deploy_dir.resolve() / STATE_DIR / "known_hosts"
        args += [f"-o UserKnownHostsFile={tofu}", "-o StrictHostKeyChecking=accept-new"]
    return " ".join(args)


def ansible_options(
    settings: EngineSettings,
    deploy_dir: Path,
    *,
    host_count: int = 0,
    strategy: str = "linear",
    strategy_plugins: Path | None = None,
) -> list[AnsibleOption]:
    """Every setting gpuforge controls, with absolute paths into `deploy_dir`.

    `strategy`/`strategy_plugins` come from the engine resolution (mitogen or plain linear).
    """
    state = deploy_dir.resolve() / STATE_DIR
    opts = [
        AnsibleOption("defaults", "forks", "ANSIBLE_FORKS", str(settings.forks_for(host_count))),
        AnsibleOption("defaults", "home", "ANSIBLE_HOME", str(state)),
        AnsibleOption("defaults", "local_tmp", "ANSIBLE_LOCAL_TEMP", str(state / "tmp")),
        AnsibleOption("defaults", "gathering", "ANSIBLE_GATHERING", settings.gathering),
        AnsibleOption(
            "defaults",
            "inject_facts_as_vars",
            "ANSIBLE_INJECT_FACT_VARS",
            str(settings.inject_facts),
        ),
        AnsibleOption(
            "defaults",
            "run_vars_plugins",
            "ANSIBLE_RUN_VARS_PLUGINS",
            "start" if settings.vars_plugins_at_start else "demand",
        ),
        AnsibleOption("defaults", "fact_caching", "ANSIBLE_CACHE_PLUGIN", "jsonfile"),
        AnsibleOption(
            "defaults",
            "fact_caching_connection",
            "ANSIBLE_CACHE_PLUGIN_CONNECTION",
            str(state / "facts"),
        ),
        AnsibleOption(
            "defaults",
            "fact_caching_timeout",
            "ANSIBLE_CACHE_PLUGIN_TIMEOUT",
            str(settings.fact_cache_timeout_s),
        ),
        AnsibleOption("defaults", "host_key_checking", "ANSIBLE_HOST_KEY_CHECKING", "True"),
        AnsibleOption("defaults", "retry_files_enabled", "ANSIBLE_RETRY_FILES_ENABLED", "False"),
        AnsibleOption(
            "defaults", "interpreter_python", "ANSIBLE_PYTHON_INTERPRETER", "auto_silent"
        ),
        AnsibleOption(
            "defaults", "collections_path", "ANSIBLE_COLLECTIONS_PATH", str(collections_root())
        ),
        AnsibleOption("defaults", "strategy", "ANSIBLE_STRATEGY", strategy),
    ]
    if strategy_plugins is not None:
        opts.append(
            AnsibleOption(
                "defaults", "strategy_plugins", "ANSIBLE_STRATEGY_PLUGINS", str(strategy_plugins)
            )
        )
    if settings.profile_tasks:
        opts += [
            AnsibleOption("defaults", "callbacks_enabled", "ANSIBLE_CALLBACKS_ENABLED", TASK_TIMER),
            AnsibleOption(
                "callback_task_timer",
                "output",
                "GPUFORGE_TASK_TIMER_OUTPUT",
                str(state / "task-times-{playbook}.json"),
            ),
        ]
    opts += [
        AnsibleOption(
            "ssh_connection", "pipelining", "ANSIBLE_PIPELINING", str(settings.pipelining)
        ),
        AnsibleOption(
            "ssh_connection", "ssh_args", "ANSIBLE_SSH_ARGS", _ssh_args(settings, deploy_dir)
        ),
        AnsibleOption(
            "ssh_connection",
            "control_path_dir",
            "ANSIBLE_SSH_CONTROL_PATH_DIR",
            str(control_path_dir(deploy_dir)),
        ),
        AnsibleOption(
            "ssh_connection",
            "control_path",
            "ANSIBLE_SSH_CONTROL_PATH",
            f"%(directory)s/{_CONTROL_NAME}",
        ),
    ]
    return opts


def ansible_env(options: list[AnsibleOption]) -> dict[str, str]:
    """The `ANSIBLE_*` environment that makes ansible-playbook use `options`."""
    return {opt.env: opt.value for opt in options}
