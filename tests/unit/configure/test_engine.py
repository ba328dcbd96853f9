"""Strategy choice: mitogen when it loads, `linear` with a stated reason when it does not.

A probe that passed is remembered on disk until the plugin or the interpreter changes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gpuforge.configure import EngineSettings, _engine, mitogen_plugins_dir, resolve_strategy


def test_mitogen_is_used_when_installed() -> None:
    assert mitogen_plugins_dir() is not None, "the dev environment installs mitogen"
    choice = resolve_strategy(EngineSettings.tuned())
    assert (choice.engine, choice.strategy) == ("mitogen", "mitogen_linear")
    assert choice.plugins_dir is not None
    assert (choice.plugins_dir / "mitogen_linear.py").is_file()


def test_free_strategy_can_be_chosen() -> None:
    choice = resolve_strategy(EngineSettings.tuned(mitogen_strategy="mitogen_free"))
    assert choice.strategy == "mitogen_free"


def test_engine_ssh_turns_mitogen_off() -> None:
    choice = resolve_strategy(EngineSettings.tuned(engine="ssh"))
    assert (choice.engine, choice.strategy, choice.plugins_dir) == (
        "ssh",
        "linear",
        None,
    )
    assert "engine=ssh" in choice.reason


def test_ansible_defaults_run_ansible_s_own_linear() -> None:
    choice = resolve_strategy(EngineSettings.ansible_defaults())
    assert (choice.engine, choice.strategy, choice.plugins_dir) == ("ssh", "linear", None)


def test_a_plugin_that_fails_to_load_falls_back_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "mitogen_linear.py").write_text(
        "raise ImportError('mitogen 0.0 does not support this Ansible')\n"
    )
    choice = resolve_strategy(EngineSettings.tuned(mitogen_plugins=tmp_path))
    assert (choice.engine, choice.strategy, choice.plugins_dir) == (
        "ssh",
        "linear",
        None,
    )
    assert "does not support this Ansible" in choice.reason


def test_a_missing_plugin_falls_back(tmp_path: Path) -> None:
    choice = resolve_strategy(EngineSettings.tuned(mitogen_plugins=tmp_path / "absent"))
    assert choice.strategy == "linear"
    assert "failed to load" in choice.reason


def _counting_probe(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count the child probes run from now on (they still run); a fresh in-process cache."""
    runs: list[str] = []
    real = _engine._run_probe

    def counted(plugins_dir: Path, strategy: str) -> str:
        runs.append(strategy)
        return real(plugins_dir, strategy)

    monkeypatch.setattr(_engine, "_run_probe", counted)
    _engine.probe_strategy.cache_clear()
    return runs


def test_a_passed_probe_is_remembered_until_the_plugin_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    plugin = plugins / "mitogen_linear.py"
    plugin.write_text("from ansible.plugins.strategy.linear import StrategyModule\n")
    runs = _counting_probe(monkeypatch)
    assert _engine.probe_strategy(plugins, "mitogen_linear") == ""
    assert (tmp_path / "cache" / "gpuforge" / "strategy-probes.json").is_file()
    _engine.probe_strategy.cache_clear()
    assert _engine.probe_strategy(plugins, "mitogen_linear") == ""
    assert runs == ["mitogen_linear"], "the second answer should come from the cache file"
    # A reinstalled or edited plugin is probed again.
    os.utime(plugin, ns=(plugin.stat().st_atime_ns, plugin.stat().st_mtime_ns + 10**9))
    _engine.probe_strategy.cache_clear()
    assert _engine.probe_strategy(plugins, "mitogen_linear") == ""
    assert runs == ["mitogen_linear", "mitogen_linear"]


def test_a_failed_probe_is_not_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "mitogen_linear.py").write_text("raise ImportError('incompatible')\n")
    runs = _counting_probe(monkeypatch)
    for _ in range(2):
        _engine.probe_strategy.cache_clear()
        assert "incompatible" in _engine.probe_strategy(tmp_path, "mitogen_linear")
    assert runs == ["mitogen_linear", "mitogen_linear"]
    assert not (tmp_path / "cache" / "gpuforge" / "strategy-probes.json").exists()
