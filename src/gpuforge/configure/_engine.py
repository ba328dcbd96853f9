"""Choose Ansible's strategy engine: mitogen when it is installed and loads, plain SSH else.

Loading is probed in a child Python exactly as ansible-playbook would load the plugin, so an
installed-but-incompatible mitogen is caught before the run and reported, not mid-play. A probe
that passed is remembered in the user's cache folder (`$XDG_CACHE_HOME/gpuforge`, by default
`~/.cache/gpuforge`) under a key of the interpreter, the versions of ansible-core and mitogen and
the plugin file's size and time stamp: the child costs about 0.4 s of CPU, on every `up`, for the
same answer. The run then uses mitogen's own strategy plugin (`mitogen_linear` or
`mitogen_free`) from the directory mitogen documents for `strategy_plugins`; without mitogen, or
when it does not load on the installed ansible-core, Ansible's own `linear` over plain SSH.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gpuforge.configure._settings import EngineSettings
from gpuforge.errors import FileError
from gpuforge.files import MIB, load_json, read_text

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
    """Load `strategy` from `plugins_dir` in a child ansible; return "" or why it failed.

    A pass is remembered on disk (see the module's docstring); a failure is probed again each
    time, so that a fixed installation is noticed at once.
    """
    key = _probe_key(plugins_dir, strategy)
    cache = _probe_cache_file()
    if key is not None and key in _read_passes(cache):
        return ""
    failure = _run_probe(plugins_dir, strategy)
    if not failure and key is not None:
        _remember_pass(cache, key)
    return failure


def _probe_key(plugins_dir: Path, strategy: str) -> str | None:
    """What a probe's answer depends on, hashed; None when the plugin file cannot be read."""
    try:
        stat = (plugins_dir / f"{strategy}.py").stat()
        versions = [importlib.metadata.version(name) for name in ("ansible-core", "mitogen")]
    except (OSError, importlib.metadata.PackageNotFoundError):
        return None
    parts = [sys.executable, sys.version, *versions, str(plugins_dir), strategy]
    parts += [str(stat.st_size), str(stat.st_mtime_ns)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _probe_cache_file() -> Path:
    """Where passed probes are remembered: `$XDG_CACHE_HOME/gpuforge`, by default ~/.cache."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gpuforge" / "strategy-probes.json"


def _read_passes(cache: Path) -> list[str]:
    """The keys of the probes that passed, oldest first; empty when missing or unreadable."""
    try:
        keys = load_json(read_text(cache, max_bytes=MIB, fix=""), str(cache), "").get("passed", [])
    except (FileError, AttributeError):
        return []
    return [key for key in keys if isinstance(key, str)] if isinstance(keys, list) else []


def _remember_pass(cache: Path, key: str) -> None:
    """Add `key` (the newest 16 are kept), atomically; an unwritable cache only costs speed."""
    older = [old for old in _read_passes(cache) if old != key]
    keys = [*older[-15:], key]
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=cache.parent, prefix=".probes.", suffix=".tmp", delete=False, encoding="utf-8"
        ) as handle:
            json.dump({"passed": keys}, handle)
        os.replace(handle.name, cache)
    except OSError:
        return


def _run_probe(plugins_dir: Path, strategy: str) -> str:
    """The probe itself: the child's verdict, "" when the plugin loaded."""
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
    """Pick mitogen's own strategy when allowed and loadable, else Ansible's `linear`, saying why.

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
        settings.mitogen_strategy,
        where,
        f"mitogen strategy {settings.mitogen_strategy}",
    )
