"""Strategy choice: mitogen when it loads, `linear` with a stated reason when it does not."""

from __future__ import annotations

from pathlib import Path

from gpuforge.configure import EngineSettings, mitogen_plugins_dir, resolve_strategy


def test_mitogen_is_used_when_installed() -> None:
    assert mitogen_plugins_dir() is not None, "the dev environment installs mitogen"
    choice = resolve_strategy(EngineSettings.tuned())
    assert (choice.engine, choice.strategy) == ("mitogen", "gpuforge.gpu.mitogen_linear")
    assert choice.plugins_dir is not None
    assert (choice.plugins_dir / "mitogen_linear.py").is_file()


def test_free_strategy_can_be_chosen() -> None:
    choice = resolve_strategy(EngineSettings.tuned(mitogen_strategy="mitogen_free"))
    assert choice.strategy == "gpuforge.gpu.mitogen_free"


def test_engine_ssh_turns_mitogen_off() -> None:
    choice = resolve_strategy(EngineSettings.tuned(engine="ssh"))
    assert (choice.engine, choice.strategy, choice.plugins_dir) == ("ssh", "linear", None)
    assert "engine=ssh" in choice.reason


def test_a_plugin_that_fails_to_load_falls_back_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "mitogen_linear.py").write_text(
        "raise ImportError('mitogen 0.0 does not support this Ansible')\n"
    )
    choice = resolve_strategy(EngineSettings.tuned(mitogen_plugins=tmp_path))
    assert (choice.engine, choice.strategy, choice.plugins_dir) == ("ssh", "linear", None)
    assert "does not support this Ansible" in choice.reason


def test_a_missing_plugin_falls_back(tmp_path: Path) -> None:
    choice = resolve_strategy(EngineSettings.tuned(mitogen_plugins=tmp_path / "absent"))
    assert choice.strategy == "linear"
    assert "failed to load" in choice.reason
