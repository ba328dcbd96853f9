"""Run one playbook through ansible-runner with gpuforge's tuned settings, events and journal."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ansible_runner
import ansible_runner.interface
from ansible_runner.exceptions import AnsibleRunnerException

from gpuforge.configure._artifacts import (
    forget_run_environment,
    private_folder,
    scrub_runner_secrets,
    status_handler,
)
from gpuforge.configure._engine import StrategyChoice, resolve_strategy
from gpuforge.configure._events import (
    ConfigureEvent,
    EventKind,
    HostStats,
    parse_event,
    parse_stats,
)
from gpuforge.configure._journal import Journal
from gpuforge.configure._result import HostFailure, PlaybookResult, overall_status
from gpuforge.configure._settings import (
    STATE_DIR,
    EngineSettings,
    ansible_env,
    ansible_options,
    collections_root,
)
from gpuforge.errors import ConfigureError, InputError, ToolMissingError

__all__ = ["EventCallback", "run_playbook"]

EventCallback = Callable[[ConfigureEvent], None]

COLLECTION = "gpuforge.gpu"
_ARTIFACTS_KEPT = 10
# How often (s) ansible-runner looks at the cancel flag while the playbook is quiet.
_RUNNER_SETTINGS = {"pexpect_timeout": 0.5}
_ERROR_LINE = re.compile(r"^(ERROR!|\[ERROR\]:)\s*(.*)")


def _ansible_bin(name: str) -> Path:
    """The Ansible executable next to this Python (a venv), else the one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return beside
    found = shutil.which(name)
    if found is None:
        raise ToolMissingError(
            f"{name} is not installed",
            fix="install ansible-core next to gpuforge: pip install 'ansible-core>=2.18'",
        )
    return Path(found)


def _playbook_target(deploy_dir: Path, playbook: str | Path) -> tuple[str, str]:
    """(argument for ansible-playbook, short name) for a file path, a bare name or an FQCN."""
    text = str(playbook)
    if isinstance(playbook, Path) or "/" in text or text.endswith((".yml", ".yaml")):
        path = Path(playbook)
        path = path if path.is_absolute() else deploy_dir / path
        if not path.is_file():
            raise InputError(
                f"playbook {path} does not exist",
                fix="render the deployment first (gpuforge render) or pass an existing playbook",
            )
        return str(path.resolve()), path.stem
    fqcn = text if text.count(".") >= 2 else f"{COLLECTION}.{text}"
    namespace, collection, name = fqcn.rsplit(".", 2)
    if f"{namespace}.{collection}" == COLLECTION:
        shipped = collections_root() / "ansible_collections" / namespace / collection
        if not (shipped / "playbooks" / f"{name}.yml").is_file():
            raise InputError(
                f"the {COLLECTION} collection has no playbook named {name!r}",
                fix="use one of site, upgrade, rollback, validate",
            )
    return fqcn, name


def _inventory_hosts(env: Mapping[str, str], inventory: Path, limit: str | None) -> list[str]:
    """The hosts a run targets, as Ansible itself parses the inventory and `--limit`."""
    cmd = [str(_ansible_bin("ansible-inventory")), "-i", str(inventory), "--list"]
    if limit:
        cmd += ["--limit", limit]
    proc = subprocess.run(cmd, env=dict(env), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        reason = _ansible_error(proc.stderr) or proc.stderr.strip() or "ansible-inventory failed"
        raise InputError(
            f"cannot read inventory {inventory}: {reason}",
            fix="re-render the deployment folder, or fix the inventory file by hand",
        )
    data: dict[str, Any] = json.loads(proc.stdout)
    hosts: set[str] = set(data.get("_meta", {}).get("hostvars", {}))
    for name, group in data.items():
        if name != "_meta" and isinstance(group, dict):
            hosts.update(group.get("hosts", []))
    return sorted(hosts)


def _ansible_error(text: str) -> str:
    """The first `ERROR!` message ansible printed, joined with its continuation lines."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = _ERROR_LINE.match(line.strip())
        if match:
            rest = [match.group(2)]
            for more in lines[i + 1 :]:
                if not more.strip():
                    break
                rest.append(more.strip())
            return " ".join(part for part in rest if part)[:800]
    return ""


class _Collector:
    """Receives ansible-runner events, forwards typed ones, keeps stats and failure reasons."""

    def __init__(self, on_event: EventCallback | None) -> None:
        self.on_event = on_event
        self.stats: dict[str, HostStats] | None = None
        self.failures: dict[str, HostFailure] = {}
        self.cancel = threading.Event()
        self.callback_error: Exception | None = None

    def __call__(self, raw: Mapping[str, Any]) -> bool:
        event = parse_event(raw)
        if event is not None:
            if event.kind is EventKind.STATS:
                self.stats = parse_stats(raw.get("event_data") or {})
            elif event.kind in (EventKind.FAILED, EventKind.UNREACHABLE) and not event.ignored:
                self.failures[event.host] = HostFailure(
                    host=event.host,
                    task=event.task,
                    role=event.role,
                    message=event.message,
                    unreachable=event.kind is EventKind.UNREACHABLE,
                )
            if self.on_event is not None and self.callback_error is None:
                try:
                    self.on_event(event)
                except Exception as exc:  # re-raised by the caller once ansible has stopped
                    self.callback_error = exc
                    self.cancel.set()
        return False


def _drive(runner: Any, collector: _Collector) -> None:
    """Run ansible-runner in a worker thread so Ctrl-C or a failing callback stops Ansible cleanly.

    Events reach `on_event` from that worker thread.
    """
    crashed: list[BaseException] = []

    def work() -> None:
        try:
            runner.run()
        except BaseException as exc:  # handed to the calling thread below
            crashed.append(exc)

    thread = threading.Thread(target=work, name="gpuforge-ansible-runner", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)
    except KeyboardInterrupt:
        collector.cancel.set()
        thread.join()
        raise
    if crashed:
        raise crashed[0]
    if collector.callback_error is not None:
        raise collector.callback_error


_TETHER = """#!{python} -S
# Written by gpuforge: run ansible-playbook so that it ends when gpuforge does. ansible-runner
# starts it on a terminal of its own, where a killed gpuforge would otherwise leave it running.
import ctypes, os, signal, sys
ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: SIGTERM when the parent dies
if os.getppid() == 1:  # the parent died before the line above took effect
    sys.exit(1)
os.execv({real!r}, [{real!r}, *sys.argv[1:]])
"""


def _tethered_playbook(deploy_dir: Path, real: Path) -> Path:
    """A folder whose `ansible-playbook` execs the real one with a parent-death signal set."""
    folder = deploy_dir / STATE_DIR / "bin"
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "ansible-playbook"
    text = _TETHER.format(python=sys.executable, real=str(real))
    if not script.exists() or script.read_text(encoding="utf-8") != text:
        script.write_text(text, encoding="utf-8")
        script.chmod(0o755)
    return folder


def _build_env(
    settings: EngineSettings, deploy_dir: Path, host_count: int, choice: StrategyChoice
) -> dict[str, str]:
    options = ansible_options(
        settings,
        deploy_dir,
        host_count=host_count,
        strategy=choice.strategy,
        strategy_plugins=choice.plugins_dir,
    )
    env = dict(os.environ)
    env.update(ansible_env(options))
    real = _ansible_bin("ansible-playbook")
    wrappers = _tethered_playbook(deploy_dir, real)
    env["PATH"] = os.pathsep.join([str(wrappers), str(real.parent), env.get("PATH", "")])
    env["ANSIBLE_NOCOLOR"] = "True"
    env["ANSIBLE_FORCE_COLOR"] = "False"
    return env


def run_playbook(
    deploy_dir: Path,
    playbook: str | Path,
    inventory: Path,
    *,
    limit: str | None = None,
    tags: str | Sequence[str] | None = None,
    check: bool = False,
    diff: bool = False,
    extra_vars: Mapping[str, Any] | None = None,
    forks: int | None = None,
    settings: EngineSettings | None = None,
    on_event: EventCallback | None = None,
    journal: Journal | None = None,
    step: str | None = None,
    inventory_hosts: Sequence[str] | None = None,
) -> PlaybookResult:
    """Run `playbook` against `inventory` and report per-host results; a failed host is no error.

    `playbook` is a file (relative to `deploy_dir`), a name in gpuforge.gpu (`site`) or an
    FQCN. Raises ConfigureError only when Ansible could not run the playbook at all.
    `inventory_hosts`: the hosts of `inventory`, when the caller wrote it and knows them; without
    a `limit` they spare asking `ansible-inventory` (an Ansible start-up, ~0.3 s) for them.
    """
    settings = settings or EngineSettings.tuned()
    if forks is not None:
        settings = replace(settings, forks=forks)
    deploy_dir = deploy_dir.resolve()
    scrub_runner_secrets(deploy_dir)
    inventory = inventory if inventory.is_absolute() else deploy_dir / inventory
    if not inventory.exists():
        raise InputError(
            f"inventory {inventory} does not exist",
            fix="render the deployment first (gpuforge render), or pass the right --inventory",
        )
    target, name = _playbook_target(deploy_dir, playbook)
    choice = resolve_strategy(settings)
    if inventory_hosts and not limit:
        hosts = sorted(set(inventory_hosts))
    else:
        hosts = _inventory_hosts(_build_env(settings, deploy_dir, 0, choice), inventory, limit)
    if not hosts:
        raise InputError(
            f"no host in {inventory} matches" + (f" --limit {limit!r}" if limit else ""),
            fix="check the host pattern given to --limit against the inventory",
        )
    env = _build_env(settings, deploy_dir, len(hosts), choice)
    step = step or f"playbook:{name}" + (":check" if check else "")
    tag_arg = tags if isinstance(tags, str) or tags is None else ",".join(tags)
    if journal is not None:
        journal.record(
            step,
            "started",
            playbook=name,
            limit=limit,
            tags=tag_arg,
            check=check,
            engine=choice.engine,
            hosts=len(hosts),
        )
    collector = _Collector(on_event)
    private = private_folder(deploy_dir)
    # ansible-runner reads its own settings only from this file; none of them are secret.
    (private / "env" / "settings").write_text(json.dumps(_RUNNER_SETTINGS))
    ident = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{name}"
    cmdline = " ".join(flag for flag, on in (("--check", check), ("--diff", diff)) if on)
    started = time.monotonic()
    try:
        runner = ansible_runner.interface.init_runner(
            private_data_dir=str(private),
            project_dir=str(deploy_dir),
            ident=ident,
            playbook=target,
            inventory=str(inventory),
            limit=limit,
            tags=tag_arg,
            cmdline=cmdline or None,
            extravars=dict(extra_vars) if extra_vars else None,
            envvars=env,
            quiet=True,
            suppress_env_files=True,
            fact_cache_type="none",
            rotate_artifacts=_ARTIFACTS_KEPT,
            event_handler=collector,
            status_handler=status_handler(deploy_dir, ident),
            cancel_callback=collector.cancel.is_set,
        )
        _drive(runner, collector)
    except KeyboardInterrupt:
        if journal is not None:
            journal.record(step, "interrupted", playbook=name)
        raise
    except (ValueError, AnsibleRunnerException) as exc:
        if journal is not None:
            journal.record(step, "failed", playbook=name, error=str(exc))
        raise ConfigureError(
            f"ansible-runner could not run {name}: {exc}",
            fix=f"check that {private} is a writable directory",
        ) from exc
    finally:
        # The runner's `command` artifact copies the whole environment; it may hold credentials.
        forget_run_environment(deploy_dir, ident)
    duration = time.monotonic() - started
    artifacts = private / "artifacts" / ident
    if collector.stats is None:
        stdout = (artifacts / "stdout").read_text(errors="replace") if artifacts.exists() else ""
        reason = _ansible_error(stdout) or f"ansible-playbook ended with {runner.status}"
        if journal is not None:
            journal.record(step, "failed", playbook=name, error=reason, rc=runner.rc)
        raise ConfigureError(
            f"Ansible could not run {name}: {reason}",
            fix=f"see the full output in {artifacts / 'stdout'}",
        )
    result = PlaybookResult(
        playbook=name,
        status=overall_status(collector.stats),
        hosts=collector.stats,
        failures={
            h: f
            for h, f in collector.failures.items()
            if h in collector.stats and collector.stats[h].status != "ok"
        },
        duration_s=duration,
        engine=choice.engine,
        strategy=choice.strategy,
        engine_reason=choice.reason,
        check=check,
        rc=int(runner.rc or 0),
        artifacts_dir=artifacts,
    )
    if journal is not None:
        journal.record(
            step,
            "done" if result.status == "ok" else "failed",
            playbook=name,
            result=result.status,
            duration_s=round(duration, 3),
            hosts={h: s.to_dict() for h, s in result.hosts.items()},
            failures={h: f.to_dict() for h, f in result.failures.items()},
        )
    return result
