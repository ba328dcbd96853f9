"""Choose Ansible's strategy engine: mitogen when it is installed and loads, plain `linear` else.

Loading is probed in a child Python exactly as ansible-playbook would load the plugin, so an
installed-but-incompatible mitogen is caught before the run and reported, not mid-play. The run
then uses the collection's wrapper of that strategy (`gpuforge.gpu.mitogen_linear`), which is
mitogen's without its CPU pinning: pinned, every task worker shares one CPU on small machines.
"""

from __future__ import annotations

import functools
import importlib.util
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from gpuforge.configure._settings import EngineSettings

__all__ = ["StrategyChoice", "mitogen_plugins_dir", "probe_strategy", "resolve_strategy"]

_PROBE = """
import sys
from ansible.plugins.loader import strategy_loader
strategy_loader.add_directory(sys.argv[1])
if strategy_loader.get(sys.argv[2], class_only=True) is None:
    sys.exit("Ansible found no strategy plugin named " + sys.argv[2] + " in " + sys.argv[1])
"""
_PROBE_TIMEOUT_S = 60


@dataclass(frozen=True)
class StrategyChoice:
    """The strategy a run uses, where its plugin lives, and why it was chosen."""

    engine: str
    strategy: str
    plugins_dir: Path | None
    reason: str


def mitogen_plugins_dir() -> Path | None:
    """The installed `ansible_mitogen` strategy plugin directory, or None when not installed."""
    spec = importlib.util.find_spec("ansible_mitogen")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "plugins" / "strategy"


@functools.lru_cache(maxsize=8)
def probe_strategy(plugins_dir: Path, strategy: str) -> str:
    """Load `strategy` from `plugins_dir` in a child ansible; return "" or why it failed."""
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _PROBE, str(plugins_dir), strategy],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"probing the {strategy} strategy failed: {exc}"
    if proc.returncode == 0:
        return ""
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"probe exited with status {proc.returncode}"


def resolve_strategy(settings: EngineSettings) -> StrategyChoice:
    """Pick mitogen's strategy when allowed and loadable, else `linear`, saying why.

    `settings.mitogen_plugins` overrides where mitogen's plugins are looked for.
    """
    if settings.engine == "ssh":
        return StrategyChoice("ssh", "linear", None, "plain SSH requested (engine=ssh)")
    where = settings.mitogen_plugins or mitogen_plugins_dir()
    if where is None:
        return StrategyChoice("ssh", "linear", None, "mitogen is not installed; using plain SSH")
    failure = probe_strategy(where, settings.mitogen_strategy)
    if failure:
        return StrategyChoice(
            "ssh", "linear", None, f"mitogen failed to load ({failure}); using plain SSH"
        )
    return StrategyChoice(
        "mitogen",
        f"gpuforge.gpu.{settings.mitogen_strategy}",
        where,
        f"mitogen strategy {settings.mitogen_strategy} (unpinned)",
    )
