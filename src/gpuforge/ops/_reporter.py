"""How the pipeline tells its caller what it is doing; the CLI turns this into Rich progress."""

from __future__ import annotations

from typing import Protocol

from gpuforge.configure import ConfigureEvent
from gpuforge.provision import ProgressEvent


class Reporter(Protocol):
    """Callbacks for a long-running pipeline; every method must be cheap and never raise."""

    def step_started(self, step: str, detail: str = "") -> None:
        """A pipeline step begins."""

    def step_finished(self, step: str, status: str, detail: str = "") -> None:
        """A step ended: status is done, skipped or failed."""

    def terraform_event(self, event: ProgressEvent) -> None:
        """A line or typed event from OpenTofu/Terraform."""

    def ansible_event(self, event: ConfigureEvent) -> None:
        """An event from ansible-runner."""


class SilentReporter:
    """A Reporter that discards everything (tests, `--json`)."""

    def step_started(self, step: str, detail: str = "") -> None:
        """Ignore."""

    def step_finished(self, step: str, status: str, detail: str = "") -> None:
        """Ignore."""

    def terraform_event(self, event: ProgressEvent) -> None:
        """Ignore."""

    def ansible_event(self, event: ConfigureEvent) -> None:
        """Ignore."""
