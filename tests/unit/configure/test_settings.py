"""Tuned settings: ansible.cfg and the runner's env agree, as ansible-config itself reads them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gpuforge.configure import (
    EngineSettings,
    ansible_cfg,
    ansible_env,
    ansible_options,
    control_path_dir,
    resolve_strategy,
)

ANSIBLE_CONFIG_BIN = Path(sys.executable).parent / "ansible-config"


def _dump(env: dict[str, str], cwd: Path) -> dict[str, object]:
    """Settings ansible-config reports as changed, keyed by name (`ssh.<name>` for ssh's)."""
    found: dict[str, object] = {}
    for kind in ("base", "connection"):
        proc = subprocess.run(
            [str(ANSIBLE_CONFIG_BIN), "dump", "-t", kind, "--only-changed", "--format", "json"],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        )
        for item in json.loads(proc.stdout):
            if "name" in item:
                found[item["name"]] = item["value"]
            for option in item.get("ssh", []):
                found[f"ssh.{option['name']}"] = option["value"]
    return found


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}


def test_cfg_and_env_give_ansible_the_same_settings(tmp_path: Path) -> None:
    settings = EngineSettings.tuned(profile_tasks=True)
    choice = resolve_strategy(settings)
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text(ansible_cfg(settings, tmp_path))
    from_cfg = _dump({**_clean_env(), "ANSIBLE_CONFIG": str(cfg)}, tmp_path)
    options = ansible_options(
        settings,
        tmp_path,
        host_count=4,
        strategy=choice.strategy,
        strategy_plugins=choice.plugins_dir,
    )
    from_env = _dump({**_clean_env(), **ansible_env(options)}, Path("/"))
    for name in (
        "DEFAULT_FORKS",
        "DEFAULT_GATHERING",
        "INJECT_FACTS_AS_VARS",
        "RUN_VARS_PLUGINS",
        "CACHE_PLUGIN",
        "CACHE_PLUGIN_CONNECTION",
        "DEFAULT_STRATEGY",
        "CALLBACKS_ENABLED",
        "COLLECTIONS_PATHS",
        "ANSIBLE_HOME",
        "ssh.pipelining",
        "ssh.ssh_args",
        "ssh.control_path",
        "ssh.control_path_dir",
        "ssh.host_key_checking",
    ):
        assert name in from_cfg, name
        assert from_cfg[name] == from_env[name], name
    # Ansible adds a random per-process directory below local_tmp.
    local_tmp = Path(str(from_cfg["DEFAULT_LOCAL_TMP"])).parent
    assert local_tmp == Path(str(from_env["DEFAULT_LOCAL_TMP"])).parent == tmp_path / ".ansible/tmp"
    assert from_cfg["DEFAULT_FORKS"] == 16
    assert from_cfg["DEFAULT_GATHERING"] == "smart"
    assert from_cfg["INJECT_FACTS_AS_VARS"] is False
    assert from_cfg["RUN_VARS_PLUGINS"] == "start"


def test_ssh_settings_reach_the_ssh_plugin(tmp_path: Path) -> None:
    settings = EngineSettings.tuned(known_hosts=tmp_path / "known_hosts")
    env = ansible_env(ansible_options(settings, tmp_path))
    assert env["ANSIBLE_PIPELINING"] == "True"
    assert "-o ControlPersist=60s" in env["ANSIBLE_SSH_ARGS"]
    assert f"UserKnownHostsFile={tmp_path / 'known_hosts'}" in env["ANSIBLE_SSH_ARGS"]
    assert env["ANSIBLE_SSH_CONTROL_PATH"] == "%(directory)s/%%C"
    assert env["ANSIBLE_HOST_KEY_CHECKING"] == "True"
    assert "ANSIBLE_CALLBACKS_ENABLED" not in env
    cfg = ansible_cfg(settings, tmp_path)
    assert "[ssh_connection]" in cfg
    assert "pipelining = True" in cfg


def test_defaults_profile_is_plain_ansible(tmp_path: Path) -> None:
    settings = EngineSettings.ansible_defaults()
    env = ansible_env(ansible_options(settings, tmp_path, host_count=16))
    assert env["ANSIBLE_FORKS"] == "5"
    assert env["ANSIBLE_PIPELINING"] == "False"
    assert "ControlPersist=no" in env["ANSIBLE_SSH_ARGS"]
    assert env["ANSIBLE_RUN_VARS_PLUGINS"] == "demand"
    assert resolve_strategy(settings).strategy == "linear"


def test_forks_follow_host_count_unless_set() -> None:
    assert EngineSettings.tuned().forks_for(4) == 16
    assert EngineSettings.tuned().forks_for(40) == 40
    assert EngineSettings.tuned(forks=8).forks_for(40) == 8


@pytest.mark.parametrize("depth", [1, 12])
def test_control_sockets_fit_the_unix_path_limit(tmp_path: Path, depth: int) -> None:
    deploy = tmp_path.joinpath(*["a-rather-long-directory-name"] * depth)
    socket = control_path_dir(deploy) / ("x" * 40)
    assert len(str(socket)) <= 107
    assert control_path_dir(deploy) == control_path_dir(deploy)
