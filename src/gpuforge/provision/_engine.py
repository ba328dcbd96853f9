"""Run OpenTofu/Terraform in one root module: init, plan, show, apply, output, destroy."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpuforge.errors import ProvisionError, ToolMissingError
from gpuforge.provision._binary import (
    TerraformBinary,
    find_binary,
    find_tools_dir,
    mirror_cli_config,
)
from gpuforge.provision._events import (
    Diagnostic,
    ProgressEvent,
    diagnostic_from_json,
    parse_plain_diagnostics,
    parse_ui_line,
)
from gpuforge.provision._plan import PlanSummary, parse_plan_json
from gpuforge.render import read_inside, remove_inside, write_inside

__all__ = ["STATE_BACKUPS", "STATE_BACKUP_DIR", "Engine", "EventCallback", "PlanResult"]

EventCallback = Callable[[ProgressEvent], None]

# Files Terraform writes in a root that may hold secrets (state, its backup, the backend's
# settings): made owner-only after every command. Plans are added by name as they are saved.
_PRIVATE_FILES = ("terraform.tfstate", "terraform.tfstate.backup", ".terraform/terraform.tfstate")
# Copies of the state taken before every apply and destroy, newest last; older ones are deleted.
STATE_BACKUP_DIR = "state-backups"
STATE_BACKUPS = 10
_STATE = "terraform.tfstate"
# Values shorter than this are too likely to appear by chance to be worth masking.
_MIN_SECRET_LEN = 4
# Variables whose values are masked: every TF_VAR_* and anything named like a credential.
_SECRET_NAME = re.compile(r"^TF_VAR_|SECRET|TOKEN|PASSW|CREDENTIAL|ACCESS_KEY|PRIVATE|AUTH", re.I)


@dataclass(frozen=True)
class PlanResult:
    """A saved plan: the file `apply` takes, and whether it changes anything."""

    plan_file: Path
    has_changes: bool


def _ignore(_: ProgressEvent) -> None:
    """Default callback: progress is optional."""


class Engine:
    """Drives one binary in one working directory (a root module), offline when a mirror exists.

    `env` adds variables (TF_VAR_*, cloud credentials); the values of TF_VAR_* and of variables
    named like credentials are masked in every event and error, so they cannot leak into logs.
    `on_event` receives each output line as it comes. `parallelism` sets `-parallelism` for
    plan, apply and destroy (Terraform's default is 10 resources at a time).
    """

    def __init__(
        self,
        workdir: Path,
        *,
        binary: TerraformBinary | None = None,
        env: Mapping[str, str] | None = None,
        on_event: EventCallback | None = None,
        cli_config: Path | None = None,
        parallelism: int | None = None,
        state_backups: int = STATE_BACKUPS,
    ) -> None:
        if not workdir.is_dir():
            raise ProvisionError(
                f"{workdir} is not a directory",
                "pass the folder that holds the root module (main.tf)",
            )
        self.workdir = workdir
        # Concurrent resource operations in plan/apply/destroy; None keeps Terraform's 10.
        self.parallelism = parallelism
        # How many state copies `apply` and `destroy` keep in state-backups/ (0: none).
        self.state_backups = state_backups
        self.binary = binary or find_binary()
        self.on_event = on_event or _ignore
        extra = dict(env or {})
        self._secrets = sorted(
            {
                value
                for key, value in {**os.environ, **extra}.items()
                if _SECRET_NAME.search(key) and len(value) >= _MIN_SECRET_LEN
            },
            key=len,
            reverse=True,
        )
        config = cli_config or mirror_cli_config(find_tools_dir(start=workdir))
        self._env = {
            **os.environ,
            **extra,
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        }
        if config is not None:
            self._env["TF_CLI_CONFIG_FILE"] = str(config)

    # ---- public commands ----

    def init(self, backend_config: Mapping[str, str] | None = None) -> None:
        """Install providers and modules and configure the backend (`init -input=false`)."""
        args = ["init", "-input=false", "-no-color"]
        args += [f"-backend-config={k}={v}" for k, v in sorted((backend_config or {}).items())]
        self._run_checked(args, "init")

    def plan(
        self,
        plan_file: str = "tfplan",
        *,
        destroy: bool = False,
        var_files: Sequence[Path] = (),
        replace: Sequence[str] = (),
    ) -> PlanResult:
        """Save a plan (`plan -out`); the detailed exit code tells whether it changes anything.

        `replace` lists resource addresses to recreate even where their configuration did not
        change (machines that are gone, such as reclaimed spot nodes).
        """
        args = ["plan", "-input=false", "-no-color", "-detailed-exitcode", f"-out={plan_file}"]
        args += self._json_flag() + self._parallelism_flag() + (["-destroy"] if destroy else [])
        args += [f"-var-file={path}" for path in var_files]
        args += [f"-replace={address}" for address in replace]
        code, events = self._stream(args)
        self._make_private(plan_file)
        if code not in (0, 2):
            raise self._failure("plan", events)
        return PlanResult(plan_file=self.workdir / plan_file, has_changes=code == 2)

    def show_plan(self, plan_file: str = "tfplan") -> PlanSummary:
        """Parse a saved plan (`show -json`) into counts per resource type and action."""
        document = self._capture_json(["show", "-json", "-no-color", plan_file], "show")
        if not isinstance(document, dict):
            raise ProvisionError(
                f"`show -json {plan_file}` did not print a JSON object", self._generic_fix("show")
            )
        return parse_plan_json(document)

    def apply(self, plan_file: str = "tfplan") -> None:
        """Apply exactly the saved plan, so nothing changes that was not reviewed."""
        args = ["apply", "-input=false", "-no-color", *self._json_flag(), *self._parallelism_flag()]
        args.append(plan_file)
        self.backup_state()
        self._run_checked(args, "apply")

    def outputs(self) -> dict[str, Any]:
        """The root outputs (`output -json`): name -> {value, type, sensitive}."""
        document = self._capture_json(["output", "-json", "-no-color"], "output")
        return document if isinstance(document, dict) else {}

    def validate(self) -> list[Diagnostic]:
        """Check the configuration (after init); returns every error and warning found."""
        done = self._capture(["validate", "-json", "-no-color"])
        try:
            report = json.loads(done.stdout)
        except ValueError as error:
            raise self._failure("validate", self._text_events(done)) from error
        return [diagnostic_from_json(d) for d in report.get("diagnostics") or []]

    def destroy(self) -> None:
        """Destroy every resource the state holds (`destroy -auto-approve`)."""
        args = ["destroy", "-auto-approve", "-input=false", "-no-color", *self._json_flag()]
        args += self._parallelism_flag()
        self.backup_state()
        self._run_checked(args, "destroy")

    def backup_state(self) -> Path | None:
        """Copy the state (0600) into state-backups/ and keep the newest `state_backups` copies.

        Returns the copy, or None when there is no state yet or backups are off.
        """
        state = read_inside(self.workdir, _STATE)
        if state is None or self.state_backups <= 0:
            return None
        name = f"{_STATE}.{time.time_ns():020d}"
        write_inside(self.workdir, f"{STATE_BACKUP_DIR}/{name}", state, mode=0o600)
        folder = self.workdir / STATE_BACKUP_DIR
        kept = sorted(p.name for p in folder.iterdir() if p.name.startswith(f"{_STATE}."))
        for old in kept[: -self.state_backups]:
            remove_inside(self.workdir, f"{STATE_BACKUP_DIR}/{old}")
        return folder / name

    # ---- running the binary ----

    def _parallelism_flag(self) -> list[str]:
        return [f"-parallelism={self.parallelism}"] if self.parallelism else []

    def _json_flag(self) -> list[str]:
        return ["-json"] if self.binary.supports_json_ui else []

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _stream(self, args: list[str]) -> tuple[int, list[ProgressEvent]]:
        """Run, handing each line to the callback as it arrives; returns exit code and events."""
        events: list[ProgressEvent] = []
        try:
            process = subprocess.Popen(
                [str(self.binary.path), *args],
                cwd=self.workdir,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
            )
        except OSError as error:
            raise ToolMissingError(
                f"cannot run {self.binary.path}: {error}", "run scripts/setup-terraform.sh"
            ) from error
        try:
            with process:
                for raw in process.stdout or ():
                    event = parse_ui_line(self._redact(raw))
                    events.append(event)
                    self.on_event(event)
        finally:
            self._make_private()
        return process.returncode, events

    def _make_private(self, *names: str) -> None:
        """Make the state (and the named plan files) owner-only: they may hold secrets."""
        for name in (*_PRIVATE_FILES, *names):
            path = self.workdir / name
            if path.is_file() and not path.is_symlink():
                path.chmod(0o600)

    def _run_checked(self, args: list[str], command: str) -> None:
        code, events = self._stream(args)
        if code != 0:
            raise self._failure(command, events)

    def _capture(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [str(self.binary.path), *args],
                cwd=self.workdir,
                env=self._env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as error:
            raise ToolMissingError(
                f"cannot run {self.binary.path}: {error}", "run scripts/setup-terraform.sh"
            ) from error

    def _text_events(self, done: subprocess.CompletedProcess[str]) -> list[ProgressEvent]:
        text = self._redact(done.stderr + done.stdout)
        return [ProgressEvent(kind="line", message=line) for line in text.splitlines()]

    def _capture_json(self, args: list[str], command: str) -> Any:
        done = self._capture(args)
        if done.returncode != 0:
            raise self._failure(command, self._text_events(done))
        try:
            return json.loads(done.stdout)
        except ValueError as error:
            raise ProvisionError(
                f"`{command} -json` printed something that is not JSON: {error}",
                self._generic_fix(command),
            ) from error

    # ---- errors ----

    def _failure(self, command: str, events: list[ProgressEvent]) -> ProvisionError:
        """Build the error from the diagnostics: structured ones first, else the plain text."""
        found = [e.diagnostic for e in events if e.diagnostic is not None]
        if not found:
            text = "\n".join(e.message for e in events if e.kind == "line")
            found = parse_plain_diagnostics(text)
        errors = [d for d in found if d.severity == "error"]
        errors.sort(key=lambda d: 0 if d.file else 1)
        name = self.binary.flavor
        if not errors:
            tail = " | ".join(e.message for e in events[-5:] if e.message.strip())
            return ProvisionError(
                f"{name} {command} failed in {self.workdir}: {tail}", self._generic_fix(command)
            )
        shown = "; ".join(str(d) for d in errors[:3])
        return ProvisionError(
            f"{name} {command} failed in {self.workdir}: {shown}", self._fix(command, errors[0])
        )

    def _fix(self, command: str, first: Diagnostic) -> str:
        if first.file:
            path = self.workdir / first.file
            return f"correct {path} at line {first.line}, then run the command again"
        if command == "init" and "provider" in (first.summary + first.detail).lower():
            return (
                "providers are installed offline: run scripts/setup-terraform.sh to lay out "
                "the provider mirror, or add the provider to a filesystem mirror"
            )
        return self._generic_fix(command)

    def _generic_fix(self, command: str) -> str:
        return (
            f"read the message above; to see {self.binary.flavor}'s full output run "
            f"`{self.binary.path} {command}` in {self.workdir}"
        )
