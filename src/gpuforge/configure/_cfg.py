"""Render the deployment folder's `ansible.cfg` from the same options the engine passes as env."""

from __future__ import annotations

from pathlib import Path

from gpuforge.configure._engine import resolve_strategy
from gpuforge.configure._settings import EngineSettings, ansible_options

__all__ = ["ansible_cfg"]


def ansible_cfg(settings: EngineSettings, deploy_dir: Path) -> str:
    """The `ansible.cfg` text for `deploy_dir`, matching what the engine sets through env.

    Holds no secrets, only paths, counts and switches; forks are 16 here and the engine
    raises them to the host count at run time.
    """
    choice = resolve_strategy(settings)
    options = ansible_options(
        settings, deploy_dir, strategy=choice.strategy, strategy_plugins=choice.plugins_dir
    )
    lines = [
        "# Written by gpuforge; its configure engine passes the same values as ANSIBLE_*.",
        f"# Strategy: {choice.reason}.",
    ]
    section = ""
    for opt in options:
        if opt.section != section:
            if section:
                lines.append("")
            lines.append(f"[{opt.section}]")
            section = opt.section
        lines.append(f"{opt.key} = {opt.value}")
    return "\n".join(lines) + "\n"
